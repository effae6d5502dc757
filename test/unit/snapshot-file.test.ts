import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { crc32cOf, HEADER_SIZE, TRAILER_SIZE } from '../../src/server/snapshot/format.js';
import { loadSnapshot, saveSnapshot, SnapshotError, type LoadResult } from '../../src/server/snapshot/index.js';
import { versionGapOf } from '../../src/server/snapshot/load.js';
import { Store } from '../../src/store/store.js';

// docs/SNAPSHOT.md: save and load through a real file, and every way a file can be
// bad — cut at every length, every bit flipped, forged lengths and counts, the wrong
// key — each found before a record reaches the store, which is left empty.

const MiB = 1024 * 1024;
const MAX_VALUE = 64 * MiB;
let dir: string;
const stores: Store[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'conduit-snapshot-'));
});
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

function newStore(maxMemory = 64 * MiB): Store {
  const store = new Store({ maxMemory, activeExpiry: false });
  stores.push(store);
  return store;
}

const key = (i: number): Buffer => Buffer.from(`key:${i}`);
/** A value derived from its key's number, of `size` bytes. */
function valueOf(i: number, size: number): Buffer {
  const value = Buffer.alloc(size);
  for (let j = 0; j < size; j += 1) value[j] = (i * 31 + j * 7) & 0xff;
  return value;
}

/** A store of `n` items of mixed sizes, every third with a TTL. */
function filled(n: number, maxMemory?: number): Store {
  const store = newStore(maxMemory);
  for (let i = 0; i < n; i += 1) store.set(key(i), valueOf(i, [0, 1, 10, 100, 1000, 5000][i % 6] as number), { ttlMs: i % 3 === 0 ? 600_000 : 0 });
  return store;
}

function itemsOf(store: Store): number {
  return store.stats().curr_items;
}

/**
 * Loads `file` into `store` (default: a fresh one), checking the promise never rejects
 * and a failed load leaves nothing.
 */
async function loadInto(file: string, options: { key?: Uint8Array } = {}, maxMemory?: number, store = newStore(maxMemory)): Promise<{ loaded: LoadResult; store: Store }> {
  const loaded = await loadSnapshot(store, file, { maxValueLength: MAX_VALUE, ...options });
  if (loaded.result !== 'loaded') {
    expect(itemsOf(store), `${loaded.result}: ${loaded.message}`).toBe(0);
    if (loaded.result !== 'missing') expect(loaded.message).toBeTruthy();
  }
  return { loaded, store };
}

function expectSame(original: Store, copy: Store, n: number): void {
  expect(itemsOf(copy)).toBe(itemsOf(original));
  for (let i = 0; i < n; i += 1) {
    const a = original.getWithVersion(key(i));
    const b = copy.getWithVersion(key(i));
    // Buffer.equals, not toEqual: a deep equality walks a 5 MiB value byte by byte, for minutes.
    if (typeof a !== 'object' || typeof b !== 'object') expect(b).toBe(a);
    else if (!a.value.equals(b.value) || a.version !== b.version) expect.fail(`key ${i}: value or version differs (version ${a.version} -> ${b.version})`);
    const ttl = original.ttl(key(i));
    const ttlCopy = copy.ttl(key(i));
    if (ttl === undefined || ttl <= 0) expect(ttlCopy).toBe(ttl);
    else expect(Math.abs((ttlCopy as number) - ttl)).toBeLessThan(60_000); // same expiry, give or take the test's own time
  }
}

describe('round trip', () => {
  it('saves and loads mixed sizes, TTLs and versions, oldest first', async () => {
    const store = filled(3000);
    for (let i = 0; i < 3000; i += 7) store.set(key(i), valueOf(i + 1, 50)); // newer versions for some
    const file = join(dir, 'cache.snap');
    const saved = await saveSnapshot(store, file);
    expect(saved).toMatchObject({ file, items: 3000, sections: 1 });
    expect(saved.bytes).toBe(readFileSync(file).length);
    expect(readdirSync(dir)).toEqual(['cache.snap']);
    // Oldest first: the keys written again last are the last records of the file.
    const bytes = readFileSync(file);
    const order: string[] = [];
    for (let at = HEADER_SIZE + 24; at < bytes.length - TRAILER_SIZE; ) {
      const keyLength = bytes[at] as number;
      const valueLength = bytes.readUInt32LE(at + 1);
      order.push(bytes.subarray(at + 21, at + 21 + keyLength).toString());
      at += 21 + keyLength + valueLength;
    }
    const rewritten = Array.from({ length: Math.ceil(3000 / 7) }, (_, j) => `key:${j * 7}`);
    expect(new Set(order.slice(-rewritten.length))).toEqual(new Set(rewritten));
    const { loaded, store: copy } = await loadInto(file);
    expect(loaded).toMatchObject({ result: 'loaded', records: 3000, loaded: 3000, expired: 0, evicted: 0, skipped: 0, bytes: saved.bytes, created: saved.time });
    expect(loaded.message).toBeUndefined();
    expectSame(store, copy, 3000);
  });

  it('writes the version mark (the counter when the save ended) and continues above mark + gap after a load (spec §3.11)', async () => {
    const store = filled(50);
    const doomed = store.getWithVersion(key(3))!.version;
    for (let i = 0; i < 20; i += 1) store.set(key(99), valueOf(i, 5)); // versions given, then deleted: not in the file
    store.delete(key(99));
    const mark = store.lastVersion;
    const file = join(dir, 'cache.snap');
    const saved = await saveSnapshot(store, file);
    const bytes = readFileSync(file);
    expect(bytes.readUInt32LE(80) + bytes.readUInt32LE(84) * 2 ** 32).toBe(mark);
    expect(mark).toBeGreaterThan(50);
    const { store: copy } = await loadInto(file);
    // The gap: at least 2^32 (up to about an hour old), (now - created) x 1024 for an older file.
    expect(copy.lastVersion).toBe(mark + versionGapOf(saved.time, Date.now()));
    expect(copy.lastVersion).toBeGreaterThanOrEqual(mark + 2 ** 32);
    copy.delete(key(3));
    copy.set(key(3), Buffer.from('other'));
    expect(copy.getWithVersion(key(3))!.version).toBeGreaterThan(mark);
    expect(copy.set(key(3), Buffer.from('cas'), { version: doomed })).toBe('version_mismatch');
    expect(versionGapOf(0, 86_400_000)).toBe(86_400_000 * 1024); // a day-old file
    expect(versionGapOf(0, 1e15)).toBe(2 ** 51);
    expect(versionGapOf(1000, 0)).toBe(2 ** 32); // a wall clock set back
  });

  it('refuses a file whose record is above its version mark', async () => {
    const store = filled(5);
    const file = join(dir, 'cache.snap');
    await saveSnapshot(store, file);
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(bytes.readUInt32LE(80) - 1, 80); // the mark one below the newest record
    bytes.writeUInt32LE(crc32cOf(bytes, 0, 92), 92);
    writeFileSync(file, bytes);
    const target = newStore();
    const loaded = await loadSnapshot(target, file, { maxValueLength: MAX_VALUE });
    expect(loaded).toMatchObject({ result: 'corrupt', message: expect.stringMatching(/record 4 has a version of 5, above the file's version mark 4$/) });
    expect(itemsOf(target)).toBe(0);
  });

  it('refuses a version mark that would leave no room for new versions below 2^52 (a forged mark near it)', async () => {
    const store = filled(5);
    const file = join(dir, 'cache.snap');
    await saveSnapshot(store, file);
    const bytes = readFileSync(file);
    // 2^52 - 2^50 + 1 - 2^32: with the smallest gap (2^32) one past the room kept for new versions.
    bytes.writeBigUInt64LE(BigInt(2 ** 52 - 2 ** 50 + 1 - 2 ** 32), 80);
    bytes.writeUInt32LE(crc32cOf(bytes, 0, 92), 92);
    writeFileSync(file, bytes);
    const target = newStore();
    const loaded = await loadSnapshot(target, file, { maxValueLength: MAX_VALUE });
    expect(loaded).toMatchObject({ result: 'corrupt', message: expect.stringMatching(/leaves no room for new versions/) });
    expect(itemsOf(target)).toBe(0);
    // One below it loads.
    bytes.writeBigUInt64LE(BigInt(2 ** 52 - 2 ** 50 - 2 ** 32), 80);
    bytes.writeUInt32LE(crc32cOf(bytes, 0, 92), 92);
    writeFileSync(file, bytes);
    const again = newStore();
    expect(await loadSnapshot(again, file, { maxValueLength: MAX_VALUE })).toMatchObject({ result: 'loaded', loaded: 5 });
  });

  it('puts a value larger than 4 MiB in a section of its own, between sections of small ones', async () => {
    const store = newStore(128 * MiB);
    for (let i = 0; i < 2000; i += 1) store.set(key(i), valueOf(i, 3000)); // ~6 MiB: two sections
    store.set(key(2000), valueOf(2000, 5 * MiB));
    for (let i = 2001; i < 2600; i += 1) store.set(key(i), valueOf(i, 3000));
    const file = join(dir, 'big.snap');
    const saved = await saveSnapshot(store, file);
    expect(saved.items).toBe(2600);
    expect(saved.sections).toBe(4); // 4 MiB of small ones, the rest of them, the large one, the last small ones
    const bytes = readFileSync(file);
    // Walk the sections: the large value's is one record of 21 + 9 + 5 MiB bytes.
    const sections: { records: number; length: number }[] = [];
    for (let at = HEADER_SIZE; at < bytes.length - TRAILER_SIZE; ) {
      const records = bytes.readUInt32LE(at + 8);
      const length = bytes.readUInt32LE(at + 12);
      sections.push({ records, length });
      expect(length).toBeLessThanOrEqual(4 * MiB + (records === 1 ? 2 * MiB : 0));
      at += 24 + length;
    }
    expect(sections).toContainEqual({ records: 1, length: 21 + 8 + 5 * MiB });
    const { loaded, store: copy } = await loadInto(file, {}, 128 * MiB);
    expect(loaded).toMatchObject({ result: 'loaded', loaded: 2600 });
    expectSame(store, copy, 2600);
  });

  it('saves an empty store as header and trailer only, and loads it', async () => {
    const file = join(dir, 'empty.snap');
    const saved = await saveSnapshot(newStore(), file);
    expect(saved).toMatchObject({ items: 0, sections: 0, bytes: HEADER_SIZE + TRAILER_SIZE });
    const { loaded } = await loadInto(file);
    expect(loaded).toMatchObject({ result: 'loaded', records: 0, loaded: 0 });
  });

  it('replaces the previous file, and reports a missing one as missing', async () => {
    const file = join(dir, 'cache.snap');
    expect((await loadInto(file)).loaded).toMatchObject({ result: 'missing', bytes: 0, loaded: 0 });
    await saveSnapshot(filled(100), file);
    await saveSnapshot(filled(10), file);
    expect((await loadInto(file)).loaded.loaded).toBe(10);
    expect(readdirSync(dir)).toEqual(['cache.snap']);
  });

  it('does not load items whose expiry passed, counting them', async () => {
    let now = 1_000;
    const store = new Store({ maxMemory: 64 * MiB, activeExpiry: false, clock: () => now });
    stores.push(store);
    store.set(key(1), valueOf(1, 10), { ttlMs: 50 });
    store.set(key(2), valueOf(2, 10));
    const file = join(dir, 'ttl.snap');
    await saveSnapshot(store, file);
    await new Promise((resolve) => setTimeout(resolve, 80)); // the wall clock moves past key 1's expiry
    now += 80;
    const { loaded, store: copy } = await loadInto(file);
    expect(loaded).toMatchObject({ result: 'loaded', records: 2, loaded: 1, expired: 1 });
    expect(copy.get(key(1))).toBeUndefined();
  });

  it('skips values longer than maxValueLength', async () => {
    const store = filled(60);
    const file = join(dir, 'cache.snap');
    await saveSnapshot(store, file);
    const copy = newStore();
    const loaded = await loadSnapshot(copy, file, { maxValueLength: 1000 });
    expect(loaded).toMatchObject({ result: 'loaded', records: 60, skipped: 10, loaded: 50 });
  });
});

describe('sealed (--snapshot-key)', () => {
  const secret = randomBytes(32);

  it('round-trips, with no plaintext value in the file', async () => {
    const store = newStore();
    for (let i = 0; i < 500; i += 1) store.set(key(i), Buffer.from(`secret-value-${i}-`.repeat(5)));
    const file = join(dir, 'sealed.snap');
    const saved = await saveSnapshot(store, file, { key: secret });
    const bytes = readFileSync(file);
    expect(bytes.includes(Buffer.from('secret-value-1'))).toBe(false);
    expect(bytes.includes(Buffer.from('key:1'))).toBe(false);
    expect(bytes.readUInt16LE(10)).toBe(1);
    const { loaded, store: copy } = await loadInto(file, { key: secret });
    expect(loaded).toMatchObject({ result: 'loaded', loaded: 500, bytes: saved.bytes });
    expectSame(store, copy, 500);
  });

  it('refuses another key as wrong_key, a sealed file without a key, an unsealed file with one', async () => {
    const store = filled(50);
    const sealed = join(dir, 'sealed.snap');
    const plain = join(dir, 'plain.snap');
    await saveSnapshot(store, sealed, { key: secret });
    await saveSnapshot(store, plain);
    expect((await loadInto(sealed, { key: randomBytes(32) })).loaded).toMatchObject({ result: 'wrong_key', message: 'sealed with another --snapshot-key' });
    expect((await loadInto(sealed)).loaded).toMatchObject({ result: 'sealed', message: 'sealed, but no --snapshot-key was given' });
    expect((await loadInto(plain, { key: secret })).loaded).toMatchObject({ result: 'unsealed', message: 'not sealed, but --snapshot-key is set' });
  });

  it('uses a fresh salt per file', async () => {
    const store = filled(5);
    await saveSnapshot(store, join(dir, 'a'), { key: secret });
    await saveSnapshot(store, join(dir, 'b'), { key: secret });
    expect(readFileSync(join(dir, 'a')).subarray(48, 64)).not.toEqual(readFileSync(join(dir, 'b')).subarray(48, 64));
  });
});

describe('bad files', () => {
  const secret = randomBytes(32);
  /**
   * One store for the thousands of loads below, each emptied again by the load that
   * fails; small, so that the pages its few items need are quick to carve.
   */
  let target: Store;
  beforeEach(() => {
    target = new Store({ maxMemory: 256 * 1024, shards: 1, activeExpiry: false });
    stores.push(target);
  });

  /** A small snapshot: 6 items, one section, a few hundred bytes. */
  async function small(options: { key?: Uint8Array } = {}): Promise<{ file: string; bytes: Buffer }> {
    const store = newStore();
    for (let i = 0; i < 6; i += 1) store.set(key(i), valueOf(i, 8 + (i % 3)), { ttlMs: i % 2 === 0 ? 600_000 : 0 });
    const file = join(dir, options.key === undefined ? 'small.snap' : 'small-sealed.snap');
    await saveSnapshot(store, file, options);
    return { file, bytes: readFileSync(file) };
  }

  /** Writes `bytes` to a file and loads it: never 'loaded', never a throw, the store empty. */
  async function refused(bytes: Uint8Array, options: { key?: Uint8Array } = {}): Promise<LoadResult> {
    const file = join(dir, 'bad.snap');
    writeFileSync(file, bytes);
    const { loaded } = await loadInto(file, options, undefined, target);
    expect(loaded.result, `${bytes.length} bytes`).not.toBe('loaded');
    return loaded;
  }

  /**
   * A copy of `bytes` at `bad.snap` changed in place through one open descriptor:
   * thousands of variants without rewriting the file each time (a whole write per
   * variant made the bit-flip test ten times slower on a busy disk).
   */
  function scratch(bytes: Uint8Array): { file: string; poke(at: number, value: number): void; cut(length: number): void; close(): void } {
    const file = join(dir, 'bad.snap');
    writeFileSync(file, bytes);
    const fd = openSync(file, 'r+');
    return {
      file,
      poke: (at, value) => void writeSync(fd, Uint8Array.of(value), 0, 1, at),
      cut: (length) => ftruncateSync(fd, length),
      close: () => closeSync(fd),
    };
  }

  async function refusedAt(file: string, options: { key?: Uint8Array }, what: string): Promise<LoadResult> {
    const { loaded } = await loadInto(file, options, undefined, target);
    expect(loaded.result, what).not.toBe('loaded');
    return loaded;
  }

  for (const sealed of [false, true]) {
    const options = sealed ? { key: secret } : {};
    it(`refuses every truncation of a small ${sealed ? 'sealed ' : ''}snapshot`, async () => {
      const { bytes } = await small(options);
      expect(bytes.length).toBeGreaterThan(350);
      const file = scratch(bytes);
      for (let length = bytes.length - 1; length >= 0; length -= 1) {
        file.cut(length);
        const loaded = await refusedAt(file.file, options, `cut at ${length}`);
        expect(loaded.result, `cut at ${length}: ${loaded.message}`).toBe('corrupt');
        if (length > HEADER_SIZE) expect(loaded.message).toMatch(/^file ends /);
      }
      file.close();
    });

    it(`finds every single-bit flip of a small ${sealed ? 'sealed ' : ''}snapshot`, async () => {
      const { bytes } = await small(options);
      const results = new Set<string>();
      const file = scratch(bytes);
      for (let bit = 0; bit < bytes.length * 8; bit += 1) {
        const at = bit >> 3;
        file.poke(at, (bytes[at] as number) ^ (1 << (bit & 7)));
        results.add((await refusedAt(file.file, options, `bit ${bit} flipped`)).result);
        file.poke(at, bytes[at] as number);
      }
      file.close();
      expect([...results].sort()).toEqual(sealed ? ['corrupt', 'newer_version', 'sealed', 'unsealed', 'wrong_key'].filter((r) => results.has(r)) : ['corrupt', 'newer_version', 'sealed'].filter((r) => results.has(r)));
      expect(results.has('corrupt')).toBe(true);
    });
  }

  it('finds random multi-byte corruptions', async () => {
    const { bytes } = await small();
    let seed = 22;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 300; round += 1) {
      const copy = Buffer.from(bytes);
      const changes = 2 + random(8);
      for (let c = 0; c < changes; c += 1) {
        const at = random(copy.length);
        copy[at] = (copy[at] as number) ^ (1 + random(255));
      }
      await refused(copy);
    }
  });

  it('refuses a future format version with its own result', async () => {
    const { bytes } = await small();
    const copy = Buffer.from(bytes);
    copy.writeUInt16LE(2, 8);
    copy.writeUInt32LE(crc32cOf(copy, 0, 92), 92);
    expect(await refused(copy)).toMatchObject({ result: 'newer_version', message: 'format version 2 is newer than this server reads (1)' });
  });

  it('refuses an empty file, a foreign file, a file cut inside its header', async () => {
    expect(await refused(new Uint8Array(0))).toMatchObject({ result: 'corrupt', message: 'the file is empty', bytes: 0 });
    expect(await refused(Buffer.from('\x7fELF\x02\x01\x01\x00 and the rest of a binary', 'latin1'))).toMatchObject({ result: 'corrupt', message: 'not a Conduit snapshot (magic 7f454c4602010100…)' });
    expect(await refused(Buffer.from('CONDSNAP'))).toMatchObject({ result: 'corrupt', message: 'file ends inside the header (8 of 96 bytes)' });
  });

  it('reports a directory as unreadable', async () => {
    const path = join(dir, 'a-directory');
    mkdirSync(path);
    const { loaded } = await loadInto(path);
    expect(loaded).toMatchObject({ result: 'unreadable', message: expect.stringMatching(/directory|EISDIR/) });
  });

  it('reports a file it may not read as unreadable', async () => {
    const { file } = await small();
    let path = file;
    if (process.getuid?.() === 0) {
      path = join(file, 'below-a-file'); // root reads through chmod 000: ENOTDIR is the refusal it cannot bypass
    } else {
      chmodSync(file, 0);
    }
    const { loaded } = await loadInto(path);
    expect(loaded).toMatchObject({ result: 'unreadable', message: expect.stringMatching(/^cannot open: (EACCES|ENOTDIR)/) });
  });

  it('reports a FIFO as unreadable rather than waiting for a writer', async (context) => {
    const path = join(dir, 'a-fifo');
    try {
      execFileSync('mkfifo', [path]);
    } catch {
      context.skip(); // no mkfifo on this system
    }
    const { loaded } = await loadInto(path);
    expect(loaded).toMatchObject({ result: 'unreadable', message: 'is not a regular file' });
  });

  it('refuses a forged section length without allocating for it', async () => {
    const { bytes } = await small();
    for (const length of [0xffff_fff0, 60 * MiB]) {
      const copy = Buffer.from(bytes);
      copy.writeUInt32LE(length, HEADER_SIZE + 12);
      copy.writeUInt32LE(crc32cOf(copy, HEADER_SIZE, HEADER_SIZE + 20), HEADER_SIZE + 20);
      const before = process.memoryUsage().arrayBuffers;
      const loaded = await refused(copy);
      expect(loaded.result).toBe('corrupt');
      expect(loaded.message).toMatch(length > 64 * MiB ? /section 0 length 4294967280 is above the largest/ : /^file ends inside section 0 \(at byte [\d,]+ of 62,9\d\d,\d\d\d expected\)$/);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * MiB);
    }
  });

  it('refuses bytes after the trailer', async () => {
    const { bytes } = await small();
    expect(await refused(Buffer.concat([bytes, Buffer.from([0])]))).toMatchObject({ result: 'corrupt', message: '1 bytes after the trailer' });
    expect(await refused(Buffer.concat([bytes, bytes]))).toMatchObject({ result: 'corrupt', message: `${bytes.length.toLocaleString('en-US')} bytes after the trailer` });
  });

  it('refuses a header whose counts disagree with the sections', async () => {
    const { bytes } = await small();
    const forge = (edit: (b: Buffer) => void): Buffer => {
      const copy = Buffer.from(bytes);
      edit(copy);
      copy.writeUInt32LE(crc32cOf(copy, 0, 92), 92);
      const t = copy.length - TRAILER_SIZE;
      copy.writeUInt32LE(crc32cOf(copy, t, t + 48), t + 48);
      return copy;
    };
    const t = bytes.length - TRAILER_SIZE;
    // The header alone: it disagrees with the trailer.
    expect((await refused(forge((b) => b.writeUInt32LE(7, 24)))).message).toMatch(/^trailer counts \(6 items.*disagree with the header \(7 items/);
    // Header and trailer together: they disagree with what the sections hold.
    expect((await refused(forge((b) => (b.writeUInt32LE(7, 24), b.writeUInt32LE(7, t + 8)))))).toMatchObject({ message: expect.stringMatching(/^the sections hold 6 records/) });
    // Fewer: the section brings more than the header says.
    expect((await refused(forge((b) => (b.writeUInt32LE(5, 24), b.writeUInt32LE(5, t + 8)))))).toMatchObject({ message: expect.stringMatching(/^section 0 brings the records to 6, more than the header's 5/) });
    // More sections than there are: the trailer stands where section 1 should.
    expect((await refused(forge((b) => (b.writeUInt32LE(2, 32), b.writeUInt32LE(2, t + 16)))))).toMatchObject({ message: 'section 1 expected, found the trailer' });
    // Fewer sections: a section stands where the trailer should.
    expect((await refused(forge((b) => (b.writeUInt32LE(0, 32), b.writeUInt32LE(0, t + 16)))))).toMatchObject({ message: 'trailer expected, found a section' });
  });

  it('refuses a sealed file whose trailer was rebuilt without the key', async () => {
    const { bytes } = await small({ key: secret });
    const copy = Buffer.from(bytes);
    const t = copy.length - TRAILER_SIZE;
    copy[t + 40] = (copy[t + 40] as number) ^ 1; // another tag, CRC made to match
    copy.writeUInt32LE(crc32cOf(copy, t, t + 48), t + 48);
    expect(await refused(copy, { key: secret })).toMatchObject({ result: 'corrupt', message: 'trailer does not authenticate (file cut or altered)' });
  });

  it('names a record problem with its section and byte', async () => {
    const { bytes } = await small();
    const copy = Buffer.from(bytes);
    const payload = HEADER_SIZE + 24;
    copy[payload] = 0; // the first record's key length: 0 is not a key
    copy.writeUInt32LE(crc32cOf(copy, payload, payload + copy.readUInt32LE(HEADER_SIZE + 12)), HEADER_SIZE + 16);
    copy.writeUInt32LE(crc32cOf(copy, HEADER_SIZE, HEADER_SIZE + 20), HEADER_SIZE + 20);
    expect((await refused(copy)).message).toMatch(/^section 0 at byte 120: record 0 has a key length of 0/);
  });
});

describe('saving fails cleanly', () => {
  it('throws SnapshotError naming the file and the errno, and leaves no temporary file', async () => {
    const store = filled(10);
    const missingDir = join(dir, 'no-such-dir', 'cache.snap');
    const err = await saveSnapshot(store, missingDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotError);
    expect(err).toMatchObject({ code: 'SNAPSHOT_FAILED', message: expect.stringMatching(new RegExp(`^snapshot save to ${missingDir} failed: ENOENT`)) });
    const directory = join(dir, 'is-a-dir');
    mkdirSync(join(directory, 'inside'), { recursive: true });
    const err2 = await saveSnapshot(store, directory).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'SNAPSHOT_FAILED', message: expect.stringMatching(/failed: (EISDIR|ENOTEMPTY|EEXIST)/) });
    expect(readdirSync(dir).sort()).toEqual(['is-a-dir']);
  });

  it('refuses bad options with a TypeError naming them', async () => {
    const store = newStore();
    await expect(saveSnapshot(store, join(dir, 'x'), { sliceMs: 0 })).rejects.toThrow(/sliceMs must be a positive number/);
    await expect(saveSnapshot(store, join(dir, 'x'), { key: new Uint8Array(16) })).rejects.toThrow(/key must be 32 bytes, got 16 bytes/);
    await expect(loadSnapshot(store, join(dir, 'x'), { maxValueLength: -1 })).rejects.toThrow(/maxValueLength must be/);
  });
});

describe('slices', () => {
  it('yields the event loop between slices of a 200k-item save and reports the longest slice', async () => {
    const store = newStore(256 * MiB);
    for (let i = 0; i < 200_000; i += 1) store.set(key(i), valueOf(i, 200));
    // Count the store's export calls (collect and fill), and note at each event-loop turn
    // how many ran since the last turn: a save that does not slice runs every collect()
    // call back to back in one turn.
    let calls = 0;
    let sinceTurn = 0;
    let mostBetweenTurns = 0;
    let turns = 0;
    const begin = store.beginExport.bind(store);
    store.beginExport = () => {
      const items = begin();
      const collect = items.collect.bind(items);
      const fill = items.fill.bind(items);
      const count = (): void => {
        calls += 1;
        sinceTurn += 1;
        mostBetweenTurns = Math.max(mostBetweenTurns, sinceTurn);
      };
      items.collect = (slots) => (count(), collect(slots));
      items.fill = (target, offset, end) => (count(), fill(target, offset, end));
      return items;
    };
    let running = true;
    const tick = (): void => {
      turns += 1;
      sinceTurn = 0;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    // A clock that moves 1 ms per look: the slices end after a fixed number of looks,
    // whatever this machine's speed, so the test counts turns, not milliseconds.
    let fake = performance.now();
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => (fake += 1));
    let saved;
    try {
      saved = await saveSnapshot(store, join(dir, 'sliced.snap'), { sliceMs: 4 });
    } finally {
      spy.mockRestore();
      running = false;
    }
    expect(saved.items).toBe(200_000);
    expect(calls).toBeGreaterThan(100);
    expect(turns).toBeGreaterThan(calls / 4);
    expect(mostBetweenTurns).toBeLessThanOrEqual(4);
    expect(saved.longestSliceMs).toBeGreaterThanOrEqual(4);
    expect(saved.longestSliceMs).toBeLessThan(20);
    // And in real time, the number is reported.
    const real = await saveSnapshot(store, join(dir, 'sliced.snap'), { sliceMs: 4 });
    expect(real.longestSliceMs).toBeGreaterThan(0);
    expect(Number.isFinite(real.longestSliceMs)).toBe(true);
  });
});
