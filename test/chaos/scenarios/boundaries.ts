// Scenario 2 of issue 9: boundaries. A pipeline cut at every byte offset and
// sent one byte at a time must give the same responses as sent whole
// (spec §2.3); keys of 250/251 bytes and bodies at the cap and one over it
// get their error frames, keep or close the connection as spec §7 says, and
// store nothing partially.
import { HEADER_SIZE, MAX_BODY_SIZE, MAX_KEY_SIZE, Status, VERSION_REQUEST, writeHeader, Opcode, type Frame } from '../../../src/index.js';
import { RawClient } from '../../support/raw-client.js';
import { b, count, frame, serve, setRequest, sleep, stat, statsOf, type Scenario } from '../harness.js';

const summary = (f: Frame): string => `${f.id}:${f.opcode}:${f.body.toString('hex')}`;

/** A pipeline whose answers depend only on itself: it resets what it touches first. */
function pipeline(long: boolean): Buffer {
  const key = long ? 'k'.repeat(MAX_KEY_SIZE) : 'bk';
  return Buffer.concat([
    frame(1, { op: 'DELETE', key: b('bn') }),
    frame(2, { op: 'INCR', key: b('bn'), delta: 5n, ttlMs: 0 }),
    frame(3, setRequest(key, Buffer.alloc(long ? 300 : 20, 0x76))),
    frame(4, { op: 'GET', key: b(key) }),
    frame(5, { op: 'TTL', key: b(key) }),
    frame(6, { op: 'LIST', prefix: b('b'), limit: 10 }),
    frame(7, { op: 'DELETE', key: b(key) }),
    frame(8, { op: 'GET', key: b(key) }),
    frame(9, { op: 'HEALTH' }),
  ]);
}

/** Sends `chunks` on a fresh connection, each after the previous has left, and returns the response summaries. */
async function exchange(port: number, chunks: Buffer[], expected: number): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    for (const chunk of chunks) {
      await new Promise<void>((resolve) => c.socket.write(chunk, () => resolve()));
      if (chunks.length > 2) await new Promise((r) => setImmediate(r));
      else await sleep(1);
    }
    await c.waitFrames(expected);
    return c.frames.map(summary);
  } finally {
    c.destroy();
  }
}

/** A SET frame whose body is exactly `bodyLength` bytes (possibly over the cap, so it is built by hand). */
function setOfBodyLength(id: number, key: string, bodyLength: number): Buffer {
  const valueLength = bodyLength - 6 - key.length; // flags u8, ttl u32, key_len u8 (spec §3.3)
  if (bodyLength <= MAX_BODY_SIZE) return frame(id, setRequest(key, Buffer.alloc(valueLength, 0x61)));
  const bytes = Buffer.alloc(HEADER_SIZE + bodyLength, 0x61);
  writeHeader(bytes, 0, VERSION_REQUEST, Opcode.SET, bodyLength, BigInt(id));
  bytes.writeUInt8(0, 12);
  bytes.writeUInt32BE(0, 13);
  bytes.writeUInt8(key.length, 17);
  bytes.write(key, 18, 'latin1');
  return bytes;
}

export const boundaries: Scenario = {
  number: 2,
  id: 'boundaries',
  title: 'Boundaries',
  budgetMs: 120_000,
  async run(size, f) {
    const server = await serve(size, []);
    const port = server.port;

    // Splits: every offset of the pipeline, then one byte per write.
    const stream = pipeline(!size.quick);
    await exchange(port, [stream], 9); // leaves the state every later run starts from (bn exists)
    const whole = await exchange(port, [stream], 9);
    let splitMismatches = 0;
    for (let at = 1; at < stream.length; at += 1) {
      const got = await exchange(port, [stream.subarray(0, at), stream.subarray(at)], 9);
      if (got.join() !== whole.join()) splitMismatches += 1;
    }
    const byteByByte = await exchange(port, [...stream].map((x) => Buffer.from([x])), 9);
    const byteSame = byteByByte.join() === whole.join();

    // Limits on one connection that must survive the non-fatal ones.
    const c = await RawClient.connect(port);
    const items = async (): Promise<number> => stat(await statsOf(c), 'curr_items');
    const items0 = await items();
    const base = c.frames.length;
    const key250 = 'a'.repeat(MAX_KEY_SIZE);
    const key251 = 'c'.repeat(MAX_KEY_SIZE + 1);
    const rawKeyed = (id: number, opcode: number, key: string): Buffer => {
      const bytes = Buffer.alloc(HEADER_SIZE + key.length);
      writeHeader(bytes, 0, VERSION_REQUEST, opcode, key.length, BigInt(id));
      bytes.write(key, HEADER_SIZE, 'latin1');
      return bytes;
    };
    const set251 = Buffer.concat([setOfBodyLength(13, key250, 6 + MAX_KEY_SIZE + 1)]);
    set251.writeUInt8(MAX_KEY_SIZE + 1, 17); // key_len 251 on a body long enough to hold it
    c.write([
      frame(10, setRequest(key250, b('two-fifty'))),
      frame(11, { op: 'GET', key: b(key250) }),
      rawKeyed(12, Opcode.GET, key251),
      set251,
      setOfBodyLength(14, 'cap', MAX_BODY_SIZE),
      frame(15, { op: 'GET', key: b('cap') }),
      frame(16, { op: 'HEALTH' }),
    ]);
    await c.waitFrames(base + 7, 10_000);
    const got = c.frames.slice(base).map((x) => x.opcode);
    const capValue = c.frames[base + 5]?.body;
    const limitsOk =
      got.join() === [Status.OK, Status.OK, Status.BAD_REQUEST, Status.BAD_REQUEST, Status.OK, Status.OK, Status.OK].join() &&
      c.frames[base + 1]?.body.toString() === 'two-fifty' &&
      capValue?.length === MAX_BODY_SIZE - 6 - 3 &&
      !c.closed;
    const itemsAfterLimits = await items();

    // One over the cap closes the connection before any body byte is stored; so does a SET cut off by FIN.
    const over = await RawClient.connect(port);
    over.write(setOfBodyLength(20, 'over', MAX_BODY_SIZE + 1));
    await over.waitClosed(10_000);
    const overOk = over.frames.length === 1 && over.frames[0]?.opcode === Status.FRAME_TOO_LARGE && over.error === undefined;
    over.destroy();
    const cut = await RawClient.connect(port);
    const truncated = setOfBodyLength(21, 'cut', 1_000);
    cut.write(truncated.subarray(0, truncated.length - 1));
    cut.socket.end();
    await cut.waitClosed();
    const cutOk = cut.frames.length === 0 && cut.error === undefined;
    cut.destroy();
    c.write([frame(30, { op: 'GET', key: b('over') }), frame(31, { op: 'GET', key: b('cut') }), frame(32, { op: 'GET', key: b(key250) })]);
    await c.waitFrames(base + 7 + 1 + 3); // the limits, one STATS, the three GETs
    const [overGet, cutGet, keptGet] = c.frames.slice(-3);
    // The 251-byte-key SET began with the 250-byte key: it must not have overwritten it.
    const absent = overGet?.opcode === Status.NOT_FOUND && cutGet?.opcode === Status.NOT_FOUND && keptGet?.body.toString() === 'two-fifty';
    const itemsEnd = await items();
    c.destroy();

    f.figure(
      `a ${count(stream.length)}-byte pipeline of 9 requests split at each of its ${count(stream.length - 1)} offsets: ${count(stream.length - 1 - splitMismatches)} identical to it sent whole; ` +
        `one byte per write: ${byteSame ? 'identical' : 'different'}`,
    );
    f.figure(
      `250-byte key stored and read; 251-byte key in GET and SET: BAD_REQUEST, connection kept; body of ${count(MAX_BODY_SIZE)} bytes (the cap) stored and read back; ` +
        `cap + 1: FRAME_TOO_LARGE and a clean close; a SET cut short by FIN: nothing answered; items ${items0} → ${itemsAfterLimits} → ${itemsEnd} (only the two valid SETs stored)`,
    );
    f.expect(`every split gives identical responses (${splitMismatches} differ)`, splitMismatches === 0);
    f.expect('one byte per write gives identical responses', byteSame);
    f.expect(`250/251-byte keys and the body cap answer as specified (got statuses ${got.join(',')})`, limitsOk);
    f.expect('cap + 1 gets FRAME_TOO_LARGE and a clean close', overOk);
    f.expect('a SET cut short by FIN is not answered and the close is clean', cutOk);
    f.expect(`nothing partially stored (items ${items0} → ${itemsAfterLimits} → ${itemsEnd}; refused keys absent and the 250-byte key untouched: ${absent})`, absent && itemsAfterLimits === items0 + 2 && itemsEnd === itemsAfterLimits);
  },
};
