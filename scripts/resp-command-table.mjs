#!/usr/bin/env node
// Writes src/server/resp/command-table.ts from a live Redis 7.0 (docs/RESP.md): the
// COMMAND INFO and COMMAND DOCS answers of every command Conduit's RESP port
// runs, as plain data, so COMMAND's replies are Redis's own (redis-cli's
// hints read them). CLIENT SETINFO is Redis 7.2's: its entry is written here by hand.
//
//   redis-server --port 6399 --save '' &   # Debian's redis-server 7.0.15
//   node scripts/resp-command-table.mjs 6399 > src/server/resp/command-table.ts
import net from 'node:net';

const COMMANDS = {
  get: [], set: [], setnx: [], setex: [], psetex: [], getex: [], getdel: [], mget: [], mset: [], msetnx: [],
  append: [], strlen: [], incr: [], decr: [], incrby: [], decrby: [],
  del: [], unlink: [], exists: [], type: [], keys: [], scan: [], dbsize: [], flushdb: [], flushall: [],
  expire: [], pexpire: [], expireat: [], pexpireat: [], ttl: [], pttl: [], persist: [], expiretime: [], pexpiretime: [],
  ping: [], echo: [], select: [], quit: [], hello: [], auth: [],
  client: ['setname', 'getname', 'id', 'help'],
  info: [],
  command: ['count', 'info', 'docs', 'list', 'help'],
  config: ['get', 'set', 'resetstat', 'rewrite', 'help'],
  acl: ['whoami', 'load'],
};

const SETINFO = {
  name: 'client|setinfo', arity: 4, flags: ['noscript', 'loading', 'stale'], firstKey: 0, lastKey: 0, step: 0,
  acl: ['@slow', '@connection'], tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], keySpecs: [],
  docs: {
    summary: 'Set client or connection specific info', since: '7.2.0', group: 'connection', complexity: 'O(1)',
    arguments: [{ name: 'attr', type: 'oneof', arguments: [
      { name: 'libname', type: 'string', token: 'LIB-NAME' },
      { name: 'libver', type: 'string', token: 'LIB-VER' },
    ] }],
  },
};

/** A RESP3 reply parser, enough for COMMAND's answers. */
function parse(buf, at) {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('latin1', at + 1, eol);
  let next = eol + 2;
  const many = (n, f) => {
    const items = [];
    for (let i = 0; i < n; i++) {
      const r = parse(buf, next);
      if (r === undefined) return undefined;
      items.push(r.value);
      next = r.next;
    }
    return f(items);
  };
  switch (type) {
    case '+': case '-': return { value: line, next };
    case ':': return { value: Number(line), next };
    case '_': return { value: null, next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      if (buf.length < next + n + 2) return undefined;
      return { value: buf.toString('utf8', next, next + n), next: next + n + 2 };
    }
    case '*': case '~': { const v = many(Number(line), (x) => x); return v && { value: v, next }; }
    case '%': {
      const v = many(2 * Number(line), (x) => { const o = {}; for (let i = 0; i < x.length; i += 2) o[x[i]] = x[i + 1]; return o; });
      return v && { value: v, next };
    }
    default: throw new Error(`unexpected reply type ${type}`);
  }
}

function ask(port, commands) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const replies = [];
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const r = parse(buf, 0);
        if (r === undefined) break;
        replies.push(r.value);
        buf = buf.subarray(r.next);
      }
      if (replies.length === commands.length) { socket.end(); resolve(replies); }
    });
    socket.on('error', reject);
    for (const args of commands) socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

function entry(info, docs, wanted) {
  const [name, arity, flags, firstKey, lastKey, step, acl, tips, keySpecs, subs] = info;
  const { subcommands: subDocs, ...ownDocs } = docs;
  const e = { name, arity, flags, firstKey, lastKey, step, acl, tips, keySpecs, docs: ownDocs };
  if (wanted.length > 0) {
    e.subcommands = wanted.map((w) => {
      const full = `${name}|${w}`;
      const subInfo = subs.find((s) => s[0] === full);
      if (subInfo === undefined) throw new Error(`no ${full}`);
      return entry(subInfo, subDocs[full], []);
    });
    if (name === 'client') e.subcommands.push(SETINFO);
  }
  return e;
}

const port = Number(process.argv[2] ?? 6379);
const names = Object.keys(COMMANDS);
const [, infos, docs] = await ask(port, [['HELLO', '3'], ['COMMAND', 'INFO', ...names], ['COMMAND', 'DOCS', ...names]]);
const table = names.map((n, i) => entry(infos[i], docs[n], COMMANDS[n]));
const version = (await ask(port, [['INFO', 'server']]))[0].match(/redis_version:(\S+)/)[1];

process.stdout.write(`/**
 * Redis's own COMMAND INFO and COMMAND DOCS data for every command the RESP
 * port runs (docs/RESP.md): arity and flags for the dispatcher, the rest for
 * COMMAND's replies (redis-cli's hints). Written by
 * \`node scripts/resp-command-table.mjs\` from Redis ${version}; CLIENT SETINFO
 * (Redis 7.2) by hand in that script. Do not edit: regenerate.
 *
 * @example
 * \`\`\`ts
 * COMMAND_TABLE.find((c) => c.name === 'get')?.arity; // 2
 * \`\`\`
 * @module
 */

/** A value of COMMAND DOCS or a key spec: maps, arrays, strings and integers (\`flags\` are sets of simple strings). */
export type DocValue = string | number | readonly DocValue[] | { readonly [field: string]: DocValue };

/** One command as COMMAND INFO (the fields) and COMMAND DOCS (\`docs\`) describe it. */
export interface CommandSpec {
  /** Lower case; a subcommand's is \`container|sub\`. */
  readonly name: string;
  /** Redis's arity: n = exactly n arguments with the name, -n = at least n. */
  readonly arity: number;
  readonly flags: readonly string[];
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  readonly acl: readonly string[];
  readonly tips: readonly string[];
  readonly keySpecs: readonly { readonly [field: string]: DocValue }[];
  readonly docs: { readonly [field: string]: DocValue };
  readonly subcommands?: readonly CommandSpec[];
}

/**
 * Every command, in the order of the generator's list.
 *
 * @example
 * \`\`\`ts
 * COMMAND_TABLE.length; // the COMMAND COUNT answer
 * \`\`\`
 */
export const COMMAND_TABLE: readonly CommandSpec[] = ${JSON.stringify(table, null, 1).replace(/\n\s*/g, ' ')
  .replace(/\{ "name"/g, '\n  { "name"')};
`);
