import { describe, expect, it } from 'vitest';
import { ForwardingBackend, upstreamFailure } from '../../src/http/forwarding.js';
import { HttpFailure } from '../../src/http/failure.js';
import { ConduitError, Status, type LocalErrorCode } from '../../src/index.js';

describe('upstreamFailure: a client rejection as the forwarding gateway answers it', () => {
  it('each local failure is the upstream\'s: 502, 503 or 504, its code as the error, counted as upstream', () => {
    const table: [LocalErrorCode | 'MOVED', number][] = [
      ['CONNECTION_LOST', 502],
      ['PROTOCOL_ERROR', 502],
      ['TRUNCATED_FRAME', 502],
      ['UNKNOWN_STATUS', 502],
      ['MOVED', 502],
      ['CONNECT_FAILED', 503],
      ['QUEUE_FULL', 503],
      ['CLOSED', 503],
      ['TIMEOUT', 504],
    ];
    for (const [code, status] of table) {
      const failure = upstreamFailure(new ConduitError(code, `why ${code}`)) as HttpFailure;
      expect([code, failure instanceof HttpFailure, failure.httpStatus, failure.code, failure.upstream, failure.message]).toEqual([
        code,
        true,
        status,
        code,
        true,
        code === 'MOVED' ? `why ${code}` : `upstream: why ${code}`,
      ]);
    }
  });

  it('a status the client raised itself keeps its usual HTTP status and is not the upstream\'s; other errors pass through', () => {
    const tooLarge = upstreamFailure(new ConduitError('TOO_LARGE', 'answer over maxValueSize')) as HttpFailure;
    expect([tooLarge.httpStatus, tooLarge.code, tooLarge.upstream]).toEqual([413, 'TOO_LARGE', false]);
    const bug = new TypeError('x');
    expect(upstreamFailure(bug)).toBe(bug);
  });
});

describe('ForwardingBackend', () => {
  const key = Buffer.from('k');
  const client = (answers: { status: number; body: Buffer }[]) => {
    const sent: string[] = [];
    return {
      sent,
      exchange: async (request: { op: string; version?: bigint }) => {
        sent.push(request.version === undefined ? request.op : `${request.op} version ${request.version}`);
        return answers.shift() ?? { status: Status.OK, body: Buffer.alloc(0) };
      },
      stats: async () => ({ curr_items: 3 }),
      health: async () => 0.1,
    };
  };
  const gets = (version: bigint): { status: number; body: Buffer } => {
    const body = Buffer.alloc(9);
    body.writeBigUInt64BE(version);
    return { status: Status.OK, body };
  };

  it('If-Match on a SET: GETS, then the SET carries the version as its compare-and-set (spec §3.11)', async () => {
    const c = client([gets(7n)]);
    const set = { op: 'SET', key, value: Buffer.from('v'), ttlMs: 0, nx: false, xx: false, keepTtl: false } as const;
    await new ForwardingBackend(c).run(set, { kind: 'tags', versions: [7n] });
    expect(c.sent).toEqual(['GETS', 'SET version 7']);
  });

  it('If-Match that does not hold: 412 and nothing written', async () => {
    const c = client([gets(8n)]);
    await expect(new ForwardingBackend(c).run({ op: 'DELETE', key }, { kind: 'tags', versions: [7n] })).rejects.toMatchObject({ httpStatus: 412, code: 'EXISTS' });
    const absent = client([{ status: Status.NOT_FOUND, body: Buffer.alloc(0) }]);
    await expect(new ForwardingBackend(absent).run({ op: 'DELETE', key }, { kind: 'any' })).rejects.toMatchObject({ httpStatus: 412, code: 'NOT_FOUND' });
    expect([c.sent, absent.sent]).toEqual([['GETS'], ['GETS']]);
  });

  it('a MOVED answer with a malformed body is still a 502 MOVED', async () => {
    const c = client([{ status: Status.MOVED, body: Buffer.from([1]) }]);
    await expect(new ForwardingBackend(c).run({ op: 'GET', key })).rejects.toMatchObject({ httpStatus: 502, code: 'MOVED', upstream: true });
  });

  it('stats is the client\'s STATS object as JSON (a pooled client\'s merged one)', async () => {
    expect(JSON.parse((await new ForwardingBackend(client([])).stats()).toString())).toEqual({ curr_items: 3 });
  });
});
