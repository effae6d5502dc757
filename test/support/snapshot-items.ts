// Helpers for the store side of snapshots (issue 22): a whole export into
// sections of plaintext, a whole import from them, and the records of a
// section decoded for assertions (docs/SNAPSHOT.md "Records").
import type { ImportCounts, RecordProblem, Store } from '../../src/store/store.js';

/** One section's plaintext and its record count, as the file side would hand them back. */
export interface PlainSection {
  bytes: Uint8Array;
  records: number;
}

/** A decoded record. */
export interface DecodedRecord {
  key: string;
  value: Buffer;
  expiry: number;
  version: number;
}

/**
 * Exports the whole store into sections of at most `sectionBytes` (one
 * record alone when larger), collecting `slots` slots a slice; `between`
 * runs between any two slices (collect or fill), as the traffic would.
 */
export function exportAll(store: Store, options: { sectionBytes?: number; slots?: number; between?: () => void } = {}): PlainSection[] {
  const { sectionBytes = 64 * 1024, slots = 1 << 16, between } = options;
  const items = store.beginExport();
  while (!items.collect(slots)) between?.();
  items.order();
  const sections: PlainSection[] = [];
  for (;;) {
    between?.();
    const next = items.nextRecordSize();
    if (next === 0) break;
    const buffer = new Uint8Array(Math.max(sectionBytes, next));
    const length = items.fill(buffer, 0, buffer.length);
    if (length === 0) throw new Error(`fill wrote nothing though the next record is ${next} bytes`);
    sections.push({ bytes: buffer.subarray(0, length), records: items.filled });
  }
  return sections;
}

/** Imports every section; the counts, or the first problem (the import then aborted). */
export function importAll(store: Store, sections: readonly PlainSection[], maxValueLength = 64 * 1024 * 1024): ImportCounts | RecordProblem {
  const items = store.beginImport({ maxValueLength });
  for (const section of sections) {
    const problem = items.add(section.bytes, 0, section.bytes.length, section.records);
    if (problem !== undefined) {
      items.abort();
      return problem;
    }
  }
  return items.finish();
}

/** The records of one section's plaintext (assumed valid). */
export function decodeRecords(bytes: Uint8Array): DecodedRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: DecodedRecord[] = [];
  for (let at = 0; at < bytes.length; ) {
    const keyLength = bytes[at]!;
    const valueLength = view.getUint32(at + 1, true);
    const expiry = view.getFloat64(at + 5, true);
    const version = view.getFloat64(at + 13, true);
    const key = Buffer.from(bytes.subarray(at + 21, at + 21 + keyLength)).toString('latin1');
    const value = Buffer.from(bytes.subarray(at + 21 + keyLength, at + 21 + keyLength + valueLength));
    records.push({ key, value, expiry, version });
    at += 21 + keyLength + valueLength;
  }
  return records;
}

/** Every record of every section, in file order. */
export function allRecords(sections: readonly PlainSection[]): DecodedRecord[] {
  return sections.flatMap((s) => decodeRecords(s.bytes));
}

/** One record's bytes (for corruption tests). */
export function encodeRecord(key: Uint8Array, value: Uint8Array, expiry: number, version: number, keyLength = key.length): Buffer {
  const out = Buffer.alloc(21 + key.length + value.length);
  out[0] = keyLength;
  out.writeUInt32LE(value.length, 1);
  out.writeDoubleLE(expiry, 5);
  out.writeDoubleLE(version, 13);
  out.set(key, 21);
  out.set(value, 21 + key.length);
  return out;
}

/** A value of `size` bytes determined by `seed`. */
export function valueOf(size: number, seed: number): Buffer {
  const value = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 1) value[i] = (seed + i * 7) & 0xff;
  return value;
}
