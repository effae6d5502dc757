// Issue 15 item 11: the open-files limit read from /proc and the start-up warning decision.
import { describe, expect, it } from 'vitest';
import { descriptorsExhausted, fdShortfall, FD_MARGIN, parseOpenFilesLimit, readOpenFilesLimit } from '../../src/server/fd-limit.js';

const limits = (soft: string, hard: string): string =>
  [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max cpu time              unlimited            unlimited            seconds   ',
    'Max processes             63448                63448                processes ',
    `Max open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     `,
    'Max locked memory         8388608              8388608              bytes     ',
  ].join('\n');

describe('parseOpenFilesLimit', () => {
  it('reads the soft and hard open-files limit, not the neighbouring rows', () => {
    expect(parseOpenFilesLimit(limits('1024', '524288'))).toEqual({ soft: 1024, hard: 524288 });
  });
  it('reads "unlimited" as Infinity', () => {
    expect(parseOpenFilesLimit(limits('256', 'unlimited'))).toEqual({ soft: 256, hard: Number.POSITIVE_INFINITY });
  });
  it('is undefined without the row (another system)', () => {
    expect(parseOpenFilesLimit('Max processes 100 100 processes\n')).toBeUndefined();
    expect(parseOpenFilesLimit('')).toBeUndefined();
  });
  it('reads this process (Linux)', () => {
    const own = readOpenFilesLimit();
    expect(own === undefined || (own.soft >= 1 && own.hard >= own.soft)).toBe(true);
  });
});

describe('fdShortfall: the start-up warning decision', () => {
  it('warns when --max-connections + HTTP share + margin exceed the soft limit, naming both numbers and the fixes', () => {
    expect(fdShortfall({ soft: 256, hard: 4096 }, 10_000, 0)).toBe(
      `--max-connections 10000 + ${FD_MARGIN} spare file descriptors = 10064 exceed the soft open-files limit (RLIMIT_NOFILE) of 256: ` +
        'past about 192 connections the OS refuses new ones (EMFILE) without a BUSY. Raise it (ulimit -n 10064; hard limit 4096) or lower --max-connections to 192',
    );
  });
  it('counts the HTTP gateway share', () => {
    expect(fdShortfall({ soft: 1024, hard: 1024 }, 900, 0)).toBeUndefined();
    expect(fdShortfall({ soft: 1024, hard: 1024 }, 900, 256)).toMatch(/^--max-connections 900 \+ 256 HTTP connections \+ 64 spare file descriptors = 1220 exceed .* of 1024: .*lower --max-connections to 704$/);
  });
  it('a limit too small for the margin says so and asks only to raise it', () => {
    expect(fdShortfall({ soft: 64, hard: 64 }, 100, 0)).toMatch(/of 64: it is too small to serve connections reliably; .*Raise it \(ulimit -n 164; hard limit 64\)$/);
  });
  it('is silent exactly at the limit and with an unlimited one', () => {
    expect(fdShortfall({ soft: 1064, hard: 1064 }, 1000, 0)).toBeUndefined();
    expect(fdShortfall({ soft: 1063, hard: 1064 }, 1000, 0)).toBeDefined();
    expect(fdShortfall({ soft: Number.POSITIVE_INFINITY, hard: Number.POSITIVE_INFINITY }, 1_000_000, 256)).toBeUndefined();
  });
  it('descriptorsExhausted is false in a process with room', () => {
    expect(descriptorsExhausted()).toBeUndefined();
  });
});
