import { ConduitError } from '../protocol/errors.js';
import type { Frame } from '../protocol/header.js';

/**
 * Protocol 1.1's versioned commands on the client side (spec §3.11): the
 * decoder of a GETS answer and the retry loop of `ConduitClient.update`,
 * kept here so client.ts only dispatches.
 *
 * @example
 * ```ts
 * const read = versionedValue(frame); // { value: <Buffer …>, version: 7n }
 * ```
 * @module
 */

/** A value and the version it had when read (spec §3.11). */
export interface VersionedValue {
  readonly value: Buffer;
  /** Changes on every write of the key; pass it to `set(key, value, { version })`. */
  readonly version: bigint;
}

/** Attempts {@link updateLoop} makes by default before it gives up. */
export const DEFAULT_UPDATE_ATTEMPTS = 16;

/**
 * The value and version of a GETS answer's body: version u64, then the value (spec §3.11).
 *
 * @example
 * ```ts
 * const decodeGets = okOr(versionedValue, { status: Status.NOT_FOUND, value: undefined });
 * ```
 */
export function versionedValue(frame: Frame): VersionedValue {
  if (frame.body.length < 8) {
    throw new ConduitError('BAD_REQUEST', `GETS answer of ${frame.body.length} bytes is shorter than its 8-byte version`);
  }
  // A reassembled answer (spec §2.4) is the client's own: its value is a view, not a copy.
  const value = (frame as { owned?: boolean }).owned === true ? frame.body.subarray(8) : Buffer.from(frame.body.subarray(8));
  return { version: frame.body.readBigUInt64BE(0), value };
}

/** The largest version a frame can carry (spec §3.11: `u64`). */
const MAX_VERSION = (1n << 64n) - 1n;

/**
 * Checks a `version` option before anything is sent: a bigint from 1 to
 * 2^64 − 1 (spec §3.11: no item ever has version 0, so `0n` is refused
 * rather than taken as "no condition"). Throws a `ConduitError` with code
 * `BAD_REQUEST` naming the option.
 *
 * @example
 * ```ts
 * checkVersion(7n); // fine
 * checkVersion(0n); // throws BAD_REQUEST: version option must be a bigint from 1 to 2^64-1, got 0
 * ```
 */
export function checkVersion(version: unknown): asserts version is bigint {
  if (typeof version !== 'bigint' || version < 1n || version > MAX_VERSION) {
    const shown = typeof version === 'bigint' ? String(version) : `${typeof version} ${String(version)}`;
    throw new ConduitError('BAD_REQUEST', `version option must be a bigint from 1 to 2^64-1, got ${shown}`);
  }
}

/** What {@link updateLoop} needs of a client: a versioned read and a conditional write. */
export interface VersionedOps {
  read(key: Buffer): Promise<VersionedValue | undefined>;
  /** Resolves false when the key changed since `version` was read (or, with version undefined, was created meanwhile). */
  write(key: Buffer, value: Buffer, version: bigint | undefined): Promise<boolean>;
}

/**
 * Read, compute, write only if unchanged, retrying up to `attempts` times
 * when another writer got there first (optimistic concurrency, spec §3.11).
 * An absent key is created only if still absent (NX). Resolves the value
 * written; rejects `EXISTS` once every attempt lost its race.
 *
 * @example
 * ```ts
 * await updateLoop(ops, key, (old) => Buffer.from(String(Number(old ?? 0) + 1)), 16);
 * ```
 */
export async function updateLoop(
  ops: VersionedOps,
  key: Buffer,
  fn: (current: Buffer | undefined) => Buffer | Promise<Buffer>,
  attempts: number,
): Promise<Buffer> {
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 1000) {
    throw new RangeError(`attempts option must be an integer from 1 to 1000, got ${attempts}`);
  }
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const current = await ops.read(key);
    const next = await fn(current?.value);
    if (await ops.write(key, next, current?.version)) return next;
  }
  throw new ConduitError('EXISTS', `update of the key lost the race to other writers ${attempts} times in a row`);
}
