// The store side of a snapshot in process (issue 22): how fast ItemExport
// collects, orders and fills records out of a store, and how fast ItemImport
// checks and stores them into another, with no file in between (the file
// side, src/server/snapshot/, adds CRC32C, sealing and I/O on top; the issue
// asks 500 MB/s of it, so this part needs well over 1 GB/s).
// Two workloads: 1 GiB of 4 KiB values (262,144 items) and 1M items of
// 100-byte values, 16-byte keys. Sections of 4 MiB, each imported as soon
// as it is filled (what a save and a load do, minus the file). Prints one
// JSON line per workload; every item is checked after the run (count, and
// every 97th value byte for byte), so a fast wrong answer fails loudly.
// Run after `npm run build`: node bench/snapshot-store.mjs
// BENCH_SNAPSHOT_ONLY=large|small runs one workload.
import { Store } from '../dist/index.js';

const MiB = 1024 * 1024;
const SECTION = 4 * MiB;
const only = process.env.BENCH_SNAPSHOT_ONLY;

function keyOf(i) {
  return Buffer.from(`k:${String(i).padStart(14, '0')}`, 'latin1'); // 16 bytes
}

function valueOf(i, size) {
  const value = Buffer.alloc(size, i & 0xff);
  value.writeUInt32LE(i >>> 0, 0);
  return value;
}

function run(name, items, valueBytes, maxMemory) {
  const source = new Store({ maxMemory, activeExpiry: false });
  for (let i = 0; i < items; i += 1) source.set(keyOf(i), valueOf(i, valueBytes), { ttlMs: i % 2 === 0 ? 0 : 3_600_000 });
  if (source.stats().curr_items !== items) throw new Error(`${name}: the source holds ${source.stats().curr_items} of ${items} items`);

  const t0 = performance.now();
  const exporter = source.beginExport();
  let slices = 0;
  while (!exporter.collect(65_536)) slices += 1;
  const t1 = performance.now();
  exporter.order();
  const t2 = performance.now();

  const target = new Store({ maxMemory, activeExpiry: false });
  const importer = target.beginImport({ maxValueLength: 64 * MiB });
  const section = new Uint8Array(SECTION);
  let fillMs = 0;
  let importMs = 0;
  let bytes = 0;
  let sections = 0;
  let longestFillMs = 0;
  for (;;) {
    const next = exporter.nextRecordSize();
    if (next === 0) break;
    const buffer = next > section.length ? new Uint8Array(next) : section;
    const a = performance.now();
    const length = exporter.fill(buffer, 0, buffer.length);
    const b = performance.now();
    const problem = importer.add(buffer, 0, length, exporter.filled);
    const c = performance.now();
    if (problem !== undefined) throw new Error(`${name}: section ${sections}: ${problem.message}`);
    fillMs += b - a;
    importMs += c - b;
    longestFillMs = Math.max(longestFillMs, b - a);
    bytes += length;
    sections += 1;
  }
  const counts = importer.finish();

  // Check the answer: every item back, every 97th byte for byte.
  if (counts.loaded !== items || target.stats().curr_items !== items) throw new Error(`${name}: loaded ${counts.loaded} of ${items}`);
  for (let i = 0; i < items; i += 97) {
    const value = target.get(keyOf(i));
    if (value === undefined || !value.equals(valueOf(i, valueBytes))) throw new Error(`${name}: item ${i} came back wrong`);
  }
  source.close();
  target.close();
  const gbps = (ms) => Number((bytes / 1e9 / (ms / 1000)).toFixed(2));
  console.log(
    JSON.stringify({
      workload: name,
      items,
      valueBytes,
      recordBytes: bytes,
      sections,
      collectMs: Math.round(t1 - t0),
      collectSlices: slices + 1,
      orderMs: Math.round(t2 - t1),
      fillMs: Math.round(fillMs),
      fillGBps: gbps(fillMs),
      longestFillMs: Number(longestFillMs.toFixed(2)),
      exportGBps: gbps(t2 - t0 + fillMs),
      importMs: Math.round(importMs),
      importGBps: gbps(importMs),
      itemsPerSecondExport: Math.round(items / ((t2 - t0 + fillMs) / 1000)),
      itemsPerSecondImport: Math.round(items / (importMs / 1000)),
    }),
  );
}

if (only === undefined || only === 'large') run('1 GiB of 4 KiB values', 262_144, 4096, 1536 * MiB);
if (only === undefined || only === 'small') run('1M items of 100 B', 1_000_000, 100, 512 * MiB);
