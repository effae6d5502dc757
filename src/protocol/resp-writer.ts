/**
 * RESP replies (docs/RESP.md): RESP2, and RESP3 after `HELLO 3`. One
 * {@link RespWriter} per connection gathers a turn's replies into one growing
 * buffer, so a pipeline of 10,000 GETs goes out in one write, as the Conduit
 * port's answers do (spec §5.1).
 *
 * @module
 */

/** The RESP version a connection speaks: 2 until `HELLO 3`. */
export type RespVersion = 2 | 3;

const CRLF = 0x0a0d; // '\r\n' as a little-endian u16
const INITIAL_CAPACITY = 16 * 1024;
/** Integers of this many decimal digits or fewer are written without a string (the common case). */
const SMALL_INTEGERS = 1024;
/** The buffer of a writer holding nothing: idle connections (10,000 by default) hold no reply memory. */
const NONE = Buffer.alloc(0);
const OK = Buffer.from('+OK\r\n', 'latin1');
const SMALL: Buffer[] = Array.from({ length: SMALL_INTEGERS }, (_, n) => Buffer.from(String(n), 'latin1'));

/**
 * Replies in RESP2 or RESP3 wire form, appended in call order. Every method
 * copies what it is given at once (a value read as a view of the store's
 * memory may be overwritten by the next write), so callers may pass views.
 *
 * Where RESP3 has a type RESP2 lacks, RESP2 gets Redis's fallback: a map is
 * an array of 2n, a set an array, a double and a verbatim string a bulk
 * string, a boolean an integer, null `$-1` (or `*-1` for {@link nullArray}).
 *
 * @example
 * ```ts
 * const out = new RespWriter();
 * out.simple('OK');
 * out.bulk(Buffer.from('hello'));
 * socket.write(out.take()); // '+OK\r\n$5\r\nhello\r\n'
 * ```
 */
export class RespWriter {
  /** The version replies are written in; `HELLO 3` changes it for the following replies. */
  protocol: RespVersion = 2;
  /** Allocated by the first reply (see {@link release}). */
  #buffer: Buffer = NONE;
  #length = 0;

  /** Bytes queued and not yet taken. */
  get length(): number {
    return this.#length;
  }

  /** A simple string: `+OK`. `text` must not hold CR or LF. */
  simple(text: string): void {
    if (text === 'OK') {
      // SET's reply, the most frequent: five bytes set without encoding a string.
      this.#reserve(OK.length);
      this.#buffer.set(OK, this.#length);
      this.#length += OK.length;
      return;
    }
    this.#line(0x2b, text);
  }

  /**
   * An error reply: `text` begins with its code word, as Redis's do
   * (`'ERR syntax error'`, `'WRONGPASS …'`). CR and LF become spaces, as in
   * Redis (an error is one line).
   */
  error(text: string): void {
    this.#line(0x2d, /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text);
  }

  /** An integer reply: `:42`. */
  integer(n: number | bigint): void {
    this.#reserve(24);
    this.#buffer[this.#length++] = 0x3a;
    this.#digits(n);
  }

  /** A bulk string (copied), or null: `$-1` in RESP2, `_` in RESP3. */
  bulk(value: Uint8Array | string | null | undefined): void {
    if (value === null || value === undefined) {
      this.#nil('$-1');
      return;
    }
    const length = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
    this.#reserve(length + 24);
    this.#buffer[this.#length++] = 0x24;
    this.#digits(length);
    if (typeof value === 'string') this.#length += this.#buffer.write(value, this.#length);
    else {
      this.#buffer.set(value, this.#length);
      this.#length += length;
    }
    this.#crlf();
  }

  /** An array header of `length` elements; the elements follow as further calls. */
  array(length: number): void {
    this.#header(0x2a, length);
  }

  /** A null array: `*-1` in RESP2 (Redis's null multi-bulk), `_` in RESP3. */
  nullArray(): void {
    this.#nil('*-1');
  }

  /** A map header of `length` pairs (RESP3 `%`; RESP2: an array of 2 × `length`); keys and values follow. */
  map(length: number): void {
    if (this.protocol === 3) this.#header(0x25, length);
    else this.#header(0x2a, 2 * length);
  }

  /** A set header (RESP3 `~`; RESP2: an array). */
  set(length: number): void {
    this.#header(this.protocol === 3 ? 0x7e : 0x2a, length);
  }

  /** A double (RESP3 `,`; RESP2: a bulk string, as Redis writes it). */
  double(n: number): void {
    const text = Number.isFinite(n) ? String(n) : n > 0 ? 'inf' : n < 0 ? '-inf' : 'nan';
    if (this.protocol === 3) this.#line(0x2c, text);
    else this.bulk(text);
  }

  /** A boolean (RESP3 `#t`/`#f`; RESP2: the integer 1 or 0). */
  boolean(value: boolean): void {
    if (this.protocol === 3) this.#line(0x23, value ? 't' : 'f');
    else this.integer(value ? 1 : 0);
  }

  /** A verbatim string, e.g. INFO's text (RESP3 `=` with `txt:`; RESP2: a bulk string). */
  verbatim(text: string, format = 'txt'): void {
    if (this.protocol !== 3) {
      this.bulk(text);
      return;
    }
    const body = `${format}:${text}`;
    const length = Buffer.byteLength(body);
    this.#reserve(length + 24);
    this.#buffer[this.#length++] = 0x3d;
    this.#digits(length);
    this.#length += this.#buffer.write(body, this.#length);
    this.#crlf();
  }

  /**
   * Everything queued, as one buffer (a copy when small, so the writer's own
   * buffer is reused), and empties the writer.
   */
  take(): Buffer {
    const taken = Buffer.from(this.#buffer.subarray(0, this.#length));
    this.#length = 0;
    if (this.#buffer.length > 4 * INITIAL_CAPACITY * 16) this.#buffer = NONE; // a large reply's room is not kept
    return taken;
  }

  /**
   * Gives the buffer back when nothing is queued: a connection calls it once its replies are
   * all written, so an idle one holds no 16 KiB block; the next reply allocates one again.
   *
   * @example
   * ```ts
   * socket.write(out.take(), () => out.release());
   * ```
   */
  release(): void {
    if (this.#length === 0) this.#buffer = NONE;
  }

  /** Drops what is queued (the connection closed before it was written). */
  clear(): void {
    this.#length = 0;
  }

  /**
   * Drops what was queued after the first `length` bytes ({@link length}
   * read before a reply began): a reply abandoned halfway, such as an MGET
   * that would pass `--max-output-buffer`, leaves nothing behind, while the
   * replies queued before it stay.
   *
   * @example
   * ```ts
   * const start = out.length;
   * out.array(2);
   * out.truncate(start); // as if array(2) had not been called
   * ```
   */
  truncate(length: number): void {
    if (Number.isInteger(length) && length >= 0 && length < this.#length) this.#length = length;
  }

  #nil(resp2: '$-1' | '*-1'): void {
    if (this.protocol === 3) this.#line(0x5f, '');
    else {
      this.#reserve(8);
      this.#length += this.#buffer.write(resp2, this.#length, 'latin1');
      this.#crlf();
    }
  }

  #header(type: number, length: number): void {
    this.#reserve(24);
    this.#buffer[this.#length++] = type;
    this.#digits(length);
  }

  #line(type: number, text: string): void {
    this.#reserve(Buffer.byteLength(text) + 3);
    this.#buffer[this.#length++] = type;
    this.#length += this.#buffer.write(text, this.#length);
    this.#crlf();
  }

  /** Decimal digits of `n`, then CRLF. */
  #digits(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n < SMALL_INTEGERS && Number.isInteger(n)) {
      const small = SMALL[n] as Buffer;
      this.#buffer.set(small, this.#length);
      this.#length += small.length;
    } else {
      this.#length += this.#buffer.write(String(n), this.#length, 'latin1');
    }
    this.#crlf();
  }

  #crlf(): void {
    this.#buffer.writeUInt16LE(CRLF, this.#length);
    this.#length += 2;
  }

  /** Room for `bytes` more. */
  #reserve(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.#buffer.length, INITIAL_CAPACITY));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
}
