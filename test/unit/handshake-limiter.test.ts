// Issue 18: --max-handshakes-per-second, a token bucket per source address checked
// before any key work (spec §6.2), with a table bounded in memory.
import { describe, expect, it } from 'vitest';
import { generateEphemeral } from '../../src/crypto/handshake.js';
import { helloFrame } from '../../src/crypto/secure-channel.js';
import { takeOne } from '../support/vectors.js';
import { Opcode, VERSION_REQUEST } from '../../src/protocol/constants.js';
import type { RawFrame } from '../../src/protocol/header.js';
import { frameBytes } from '../../src/protocol/output-batch.js';
import { HandshakeLimiter } from '../../src/server/handshake-limiter.js';
import { resolveServerOptions, serverDefaults } from '../../src/server/options.js';
import { SecureGate } from '../../src/server/secure-gate.js';

/** How many of `n` HELLOs from `address` at `now` are admitted. */
const admitted = (limiter: HandshakeLimiter, address: string, n: number, now: number): number =>
  Array.from({ length: n }, () => limiter.admit(address, now)).filter(Boolean).length;

describe('HandshakeLimiter: a token bucket per address (burst = rate)', () => {
  it('admits a burst of `rate`, then refuses until tokens come back at `rate` a second', () => {
    const limiter = new HandshakeLimiter(100);
    expect(admitted(limiter, '10.0.0.1', 150, 0)).toBe(100);
    expect(admitted(limiter, '10.0.0.1', 10, 50)).toBe(5); // 50 ms at 100/s: 5 tokens
    expect(admitted(limiter, '10.0.0.1', 10, 60)).toBe(1);
    expect(admitted(limiter, '10.0.0.1', 200, 5_000)).toBe(100); // never more than the burst
  });

  it('a pool of 100 connections at once from one address passes the default', () => {
    const limiter = new HandshakeLimiter(serverDefaults.maxHandshakesPerSecond);
    expect(admitted(limiter, '10.0.0.1', 100, 0)).toBe(100);
  });

  it('each address has its own bucket; IPv4-mapped IPv6 is the IPv4 address', () => {
    const limiter = new HandshakeLimiter(3);
    expect(admitted(limiter, '10.0.0.1', 5, 0)).toBe(3);
    expect(admitted(limiter, '10.0.0.2', 5, 0)).toBe(3);
    expect(admitted(limiter, '::ffff:10.0.0.1', 5, 0)).toBe(0);
    expect(admitted(limiter, '::1', 5, 0)).toBe(3);
    expect(limiter.size).toBe(3);
  });

  it('prune drops the buckets untouched for a second (full again), oldest first, and keeps the rest', () => {
    const limiter = new HandshakeLimiter(10);
    limiter.admit('a', 0);
    limiter.admit('b', 500);
    limiter.admit('a', 700); // touched again: now the most recent
    expect(limiter.prune(1_000)).toBe(0);
    expect(limiter.prune(1_500)).toBe(1); // b
    expect(limiter.size).toBe(1);
    expect(limiter.prune(1_700)).toBe(1); // a
    expect(limiter.size).toBe(0);
  });

  it('the table never passes its cap: a new address evicts the least recently seen one', () => {
    const limiter = new HandshakeLimiter(1, 100);
    for (let i = 0; i < 10_000; i += 1) limiter.admit(`10.0.${i >> 8}.${i & 255}`, i / 1000);
    expect(limiter.size).toBe(100);
    // The most recent address is still limited (it kept its bucket)…
    expect(limiter.admit('10.0.39.15', 10)).toBe(false);
    // …and the first ones were evicted: they start afresh.
    expect(limiter.admit('10.0.0.0', 10)).toBe(true);
    expect(limiter.size).toBe(100);
  });

  it('refuses a rate or a cap below 1', () => {
    expect(() => new HandshakeLimiter(0)).toThrow('rate must be an integer of at least 1, got 0');
    expect(() => new HandshakeLimiter(1.5)).toThrow(RangeError);
    expect(() => new HandshakeLimiter(10, 0)).toThrow('maxAddresses must be an integer of at least 1, got 0');
  });
});

describe('the maxHandshakesPerSecond option', () => {
  it('is 500 by default, 0 turns it off, and a bad value names the option and its range', () => {
    expect(resolveServerOptions({}).maxHandshakesPerSecond).toBe(500);
    expect(resolveServerOptions({ maxHandshakesPerSecond: 0 }).maxHandshakesPerSecond).toBe(0);
    for (const bad of [-1, 1.5, 1_000_001, Number.NaN]) {
      expect(() => resolveServerOptions({ maxHandshakesPerSecond: bad })).toThrow(
        `maxHandshakesPerSecond option must be an integer from 0 to 1000000, got ${String(bad)}`,
      );
    }
  });
});

describe('SecureGate asks the limit before any key work (spec §6.2)', () => {
  const keys = new Map([['app', Buffer.alloc(32, 5)]]);
  const frame = (bytes: Buffer): RawFrame => takeOne(bytes, 'request');

  it('over the limit a HELLO is answered BUSY, even one whose key work would fail; the gate still awaits HELLO', () => {
    let allowed = false;
    let asked = 0;
    const gate = new SecureGate(keys, () => {
      asked += 1;
      return allowed;
    });
    // A low-order public key is AUTH_FAILED once X25519 runs: BUSY shows it did not.
    const lowOrder = gate.admit(frame(helloFrame('app', Buffer.alloc(32))));
    expect(lowOrder).toMatchObject({ kind: 'busy' });
    expect(String((lowOrder as { reply: Buffer }).reply)).toBe('too many handshakes from this address; retry later');
    expect(gate.admit(frame(helloFrame('nobody', generateEphemeral().publicKey)))).toMatchObject({ kind: 'busy' });
    expect(gate.trust).toBe('awaiting_hello');
    allowed = true;
    expect(gate.admit(frame(helloFrame('app', generateEphemeral().publicKey)))).toMatchObject({ kind: 'hello' });
    expect(gate.trust).toBe('handshaken');
    expect(asked).toBe(3);
  });

  it('is not asked for a frame that is not HELLO, nor for a HELLO with a reserved identifier (those are fatal first)', () => {
    let asked = 0;
    const gate = new SecureGate(keys, () => {
      asked += 1;
      return false;
    });
    const reserved = helloFrame('app', generateEphemeral().publicKey);
    reserved[4] = 0x80; // identifier 2^63: a server-originated one (spec §2.2)
    expect(gate.admit(frame(reserved))).toMatchObject({ kind: 'refused' });
    expect(new SecureGate(keys, () => (asked += 1) < 0).admit(frame(frameBytes(VERSION_REQUEST, Opcode.HEALTH, 1n, undefined)))).toMatchObject({
      kind: 'refused',
      error: { code: 'AUTH_REQUIRED' },
    });
    expect(asked).toBe(0);
  });
});
