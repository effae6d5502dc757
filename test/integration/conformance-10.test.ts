// A protocol 1.0 client against this (1.1) server (issue 19: "a 1.0 client, the old codec
// against the new server, passes the old conformance tests unchanged"). The client is
// test/support/codec-10.ts, which shares no code with src/: it frames the 1.0 request vectors of
// spec/vectors-v1.json itself and reads answers as 1.0 defined them. Every 1.0 request vector
// gets a well-formed 1.0 answer, and the vectors' own conversation (their identifiers were chosen
// to pair requests with responses) gets the response vectors' bytes where they are determined.
import { describe, expect, it } from 'vitest';
import { Client10, frame10, OP10, SET_FLAGS_10, setBody10, type Answer10 } from '../support/codec-10.js';
import { startServer } from '../support/server.js';
import { vectors, type RequestVector } from '../support/vectors.js';

const bytes = (hex: string): Buffer => Buffer.from(hex, 'hex');
/** A 1.0 request: an opcode of 1.0's table, and for SET only 1.0's flags. */
const is10 = (v: RequestVector): boolean => {
  const body = bytes(v.hex).subarray(12);
  return v.header.opcode <= OP10.FLUSH && (v.header.opcode !== OP10.SET || ((body[0] as number) & ~SET_FLAGS_10) === 0);
};
const requests10 = vectors.requests.filter(is10);
const request = (name: string): Buffer => {
  const v = requests10.find((r) => r.name === name);
  if (v === undefined) throw new Error(`no 1.0 request vector named ${name}`);
  return frame10(v.header.opcode, BigInt(v.header.id), bytes(v.hex).subarray(12));
};
const response = (name: string): string => {
  const v = vectors.responses.find((r) => r.name === name);
  if (v === undefined) throw new Error(`no response vector named ${name}`);
  return v.hex;
};

/** The keys of a LIST body (spec §3.5), checking that they run exactly to its end. */
function listKeys(body: Buffer): { truncated: number; keys: string[] } {
  const keys: string[] = [];
  let at = 1;
  while (at < body.length) {
    const n = body[at] as number;
    expect(n, 'key_len').toBeGreaterThan(0);
    expect(at + 1 + n, 'a key runs past the body').toBeLessThanOrEqual(body.length);
    keys.push(body.toString('latin1', at + 1, at + 1 + n));
    at += 1 + n;
  }
  return { truncated: body[0] as number, keys };
}

/** What 1.0 says an OK body to `opcode` looks like (spec §3's table). */
function expectOkBody(opcode: number, a: Answer10): void {
  switch (opcode) {
    case OP10.SET:
    case OP10.DELETE:
    case OP10.RENEW:
    case OP10.HEALTH:
    case OP10.SHUTDOWN:
    case OP10.FLUSH:
      expect(a.body.length).toBe(0);
      break;
    case OP10.LIST:
      expect([0, 1]).toContain(listKeys(a.body).truncated);
      break;
    case OP10.STATS:
      expect(typeof JSON.parse(a.body.toString('utf8'))).toBe('object');
      break;
    case OP10.INCR:
    case OP10.TTL:
      expect(a.body.length).toBe(8);
      break;
    default: // GET: the value, any bytes
  }
}

describe('a protocol 1.0 client (test/support/codec-10.ts) against the 1.1 server', () => {
  it('frames the 1.0 request vectors byte for byte as spec/vectors-v1.json has them; the 1.1 ones are not 1.0', () => {
    expect(requests10.length).toBe(17); // opcodes 0x00–0x0A, SET without CAS
    for (const v of requests10) expect(request(v.name).toString('hex'), v.name).toBe(v.hex);
    for (const v of vectors.requests.filter((r) => !is10(r))) {
      expect(v.name, 'every request vector outside 1.0 is marked 1.1 to 1.4, or is SCAN').toMatch(/\(1\.[1-4]\)|^SCAN /);
      expect(() => frame10(v.header.opcode, 1n, bytes(v.hex).subarray(12)), v.name).toThrow(/not in protocol 1\.0/);
    }
  });

  it('every 1.0 request vector, pipelined in one write, gets a well-formed 1.0 answer in order', async () => {
    const { port } = await startServer({ allowShutdown: false });
    const c = await Client10.connect(port);
    try {
      c.send(requests10.map((v) => request(v.name)));
      const answers = await c.answers(requests10.length);
      requests10.forEach((v, i) => {
        const a = answers[i]!;
        expect(a.id, v.name).toBe(BigInt(v.header.id));
        if (a.status === 'OK') expectOkBody(v.header.opcode, a);
        else expect(Buffer.from(a.body.toString('utf8')), `${v.name}: an error body is UTF-8 text`).toEqual(a.body);
      });
      // What each vector meets on a fresh server, in the file's order, as 1.0 defined it.
      expect(Object.fromEntries(requests10.map((v, i) => [v.name, answers[i]!.status]))).toEqual({
        'GET user:42': 'NOT_FOUND',
        'SET user:42 without flags or expiry': 'OK',
        'SET NX with a 60 s expiry': 'OK',
        'SET XX KEEPTTL with an empty value': 'OK',
        'SET of a binary key and value': 'OK',
        'DELETE user:42': 'OK',
        'LIST prefix user: limit 100': 'OK',
        'LIST every key (empty prefix)': 'OK',
        'RENEW user:42 to 5 s': 'NOT_FOUND',
        'RENEW to 0 removes the expiry': 'NOT_FOUND',
        HEALTH: 'OK',
        SHUTDOWN: 'FORBIDDEN',
        STATS: 'OK',
        'INCR hits by -5, ttl 1000 ms on create': 'OK',
        'INCR at the u32 ttl maximum': 'OK',
        'TTL user:42': 'NOT_FOUND',
        FLUSH: 'OK',
      });
    } finally {
      c.close();
    }
  });

  it('the vectors\' conversation: the response vectors\' exact bytes wherever the spec fixes them', async () => {
    const { port } = await startServer({ allowShutdown: false });
    const c = await Client10.connect(port);
    try {
      c.send([request('GET user:42')]);
      const [missing] = await c.answers(1);
      expect([missing!.status, missing!.id]).toEqual(['NOT_FOUND', 1n]); // 'NOT_FOUND to GET' (its text is for people)
      expect(missing!.hex.slice(0, 4)).toBe(response('NOT_FOUND to GET').slice(0, 4)); // version 0x81, status 0x01

      c.send([request('SET user:42 without flags or expiry'), request('GET user:42')]);
      const [stored, got] = await c.answers(2);
      expect(stored!.hex).toBe(response('OK to SET (empty body)'));
      expect(got!.hex).toBe(response('OK to GET with the value'));

      c.send([request('TTL user:42'), request('INCR hits by -5, ttl 1000 ms on create')]);
      const [ttl, incr] = await c.answers(2);
      expect(ttl!.hex).toBe(response('OK to TTL: no expiry'));
      expect(incr!.hex).toBe(response('OK to INCR with -5'));

      c.send([frame10(OP10.SET, 100n, setBody10('user:7', 'x')), request('LIST prefix user: limit 100')]);
      const [, list] = await c.answers(2);
      const wanted = vectors.responses.find((r) => r.name === 'OK to LIST, not truncated, two keys')!;
      expect(list!.id).toBe(7n);
      expect(list!.hex.length).toBe(wanted.hex.length); // the same keys in some order (spec §3.5)
      expect({ ...listKeys(list!.body), keys: listKeys(list!.body).keys.sort() }).toEqual({ truncated: 0, keys: wanted.meaning!.list!.keys.map((k) => bytes(k).toString('latin1')).sort() });

      c.send([request('SET NX with a 60 s expiry')]); // identifier 3: not again while in flight (spec §2.2)
      const [first] = await c.answers(1);
      c.send([request('SET NX with a 60 s expiry'), frame10(OP10.SET, 101n, setBody10('hits', 'not a number'))]);
      c.send([request('INCR hits by -5, ttl 1000 ms on create'), request('SHUTDOWN'), request('STATS')]);
      const [again, , notInteger, shutdown, stats] = await c.answers(5);
      expect([first!.status, again!.status]).toEqual(['OK', 'NOT_STORED']); // 'NOT_STORED to SET NX', id 3
      expect(again!.id).toBe(3n);
      expect([notInteger!.status, notInteger!.id]).toEqual(['NOT_INTEGER', 14n]); // 'NOT_INTEGER', id 14
      expect([shutdown!.status, shutdown!.id]).toEqual(['FORBIDDEN', 12n]); // 'FORBIDDEN to SHUTDOWN', id 12
      expect(JSON.parse(stats!.body.toString('utf8'))).toMatchObject({ curr_items: 4 }); // user:42, user:7, hits, abc
    } finally {
      c.close();
    }
  });
});
