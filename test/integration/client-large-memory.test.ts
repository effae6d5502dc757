// Memory while ConduitClient receives a 64 MiB value in fragments (issue 19
// item 1, spec §2.4): measured in a child process of its own (the server
// runs in this one), so nothing else in it allocates. The reassembler
// allocates the message once from the first fragment's `total`; a client
// that concatenated fragment by fragment would allocate ~1,025 growing
// buffers (tens of GiB in all) and hold several of them at once.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConduitClient } from '../../src/index.js';
import { startServer } from '../support/server.js';

const MiB = 2 ** 20;
const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/**
 * The child: connects, GETs `key` once to warm up (a small key), then the
 * large one while counting every byte Buffer allocates (alloc, allocUnsafe,
 * allocUnsafeSlow, concat, and from a buffer: a copy) and sampling arrayBuffers; prints RSS before and
 * VmHWM (the kernel's peak RSS) after.
 */
const CHILD = `
import { readFileSync } from 'node:fs';
const { ConduitClient } = await import(process.env.DIST);
const status = () => readFileSync('/proc/self/status', 'utf8');
const kib = (name) => Number(new RegExp('^' + name + ':\\\\s+(\\\\d+) kB', 'm').exec(status())[1]) * 1024;
const c = new ConduitClient({ port: Number(process.env.PORT), requestTimeoutMs: 60_000 });
await c.connect();
await c.get('warm');
globalThis.gc();
let allocated = 0;
for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow']) {
  const original = Buffer[name];
  Buffer[name] = function (size, ...rest) { allocated += size; return original.call(this, size, ...rest); };
}
const from = Buffer.from;
Buffer.from = function (source, ...rest) { const out = from.call(this, source, ...rest); if (source instanceof Uint8Array) allocated += out.length; return out; };
const concat = Buffer.concat;
Buffer.concat = function (list, length) { const out = concat.call(this, list, length); allocated += out.length; return out; };
const before = { rss: kib('VmRSS'), arrayBuffers: process.memoryUsage().arrayBuffers };
let peakArrayBuffers = before.arrayBuffers;
const sampler = setInterval(() => { peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers); }, 1);
const value = await c.get('big');
clearInterval(sampler);
peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
const out = { length: value.length, allocated, before, hwm: kib('VmHWM'), peakArrayBuffers };
c.destroy();
process.stdout.write(JSON.stringify(out));
`;

function runChild(port: number): Promise<{ length: number; allocated: number; before: { rss: number; arrayBuffers: number }; hwm: number; peakArrayBuffers: number }> {
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD], {
    env: { ...process.env, DIST: dist, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(stdout));
      else reject(new Error(`child exited ${code}: ${stderr}`));
    }),
  );
}

describe('ConduitClient receiving a 64 MiB value: memory within the value plus a bounded overhead', () => {
  it('allocates the message once (not growing per fragment), and its peak RSS and arrayBuffers stay within value + 64 MiB', async () => {
    const size = 64 * MiB;
    const { port } = await startServer({ maxMemory: 256 * MiB, maxValueSize: size });
    const writer = new ConduitClient({ port, requestTimeoutMs: 60_000 });
    try {
      await writer.set('warm', 'x');
      await writer.set('big', Buffer.alloc(size, 5));
    } finally {
      writer.destroy();
    }
    const m = await runChild(port);
    expect(m.length).toBe(size);
    // The message buffer (64 MiB), plus each frame the decoder joins when it straddles two socket reads
    // (at most the value again, 64 KiB at a time, garbage at once). Fragment-by-fragment concatenation
    // allocates Σ k × 64 KiB ≈ 32 GiB here, and a copy of the value handed over another 64 MiB.
    expect(m.allocated).toBeLessThan(2 * size + 8 * MiB);
    expect(m.peakArrayBuffers - m.before.arrayBuffers).toBeLessThan(size + 64 * MiB);
    expect(m.hwm - m.before.rss).toBeLessThan(size + 64 * MiB);
  });
});
