#!/usr/bin/env node
// The secure-mode golden vectors (spec §6.6), computed by an implementation
// independent of src/: nothing here imports src/ or dist/. X25519 and HKDF
// come from node:crypto (raw RFC 7748 keys wrapped as KeyObjects,
// diffieHellman, hkdfSync), XChaCha20-Poly1305 from @noble/ciphers with the
// full 24-byte nonce p_dir ‖ IDENTIFIER (spec §6.4), not the HChaCha20-subkey
// shortcut src/ takes, so a mistake in that shortcut cannot hide here.
//
// It first recomputes every protocol 1.0 value of spec/vectors-v1.json →
// `secure` and stops (exit 1) at the first one that differs: the inputs and
// the method are then the ones that produced the published vectors. Then it
// computes protocol 1.1's (§6.2 options byte, §6.3 info, §6.7 envelopes),
// checks each envelope by opening it again and parsing the frames inside,
// and prints them as JSON.
//
//   node scripts/secure-vectors.mjs            # print `secure11` as JSON
//   node scripts/secure-vectors.mjs --write    # also write it to spec/vectors-v1.json
//                                              # and its rows to the table of spec §6.6
import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';

const vectorsPath = fileURLToPath(new URL('../spec/vectors-v1.json', import.meta.url));
const specPath = fileURLToPath(new URL('../spec/conduit-v1.md', import.meta.url));

const VERSION_REQUEST = 0x01;
const VERSION_RESPONSE = 0x81;
const OP_GET = 0x00;
const OP_SET = 0x01;
const OP_HELLO = 0x10;
const SEALED = 0x11; // spec §3: opcode of a request envelope, status of a response envelope (§6.7)
const STATUS_OK = 0x00;
const HEADER_SIZE = 12;
const TAG_SIZE = 16;
/** spec §2.2, §6.7: a direction's first envelope carries 2^63. */
const FIRST_ENVELOPE = 1n << 63n;
/** spec §6.7: bit 0 of `options` asks for envelopes, of `accepted` grants them. */
const ENVELOPES = 0x01;

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const fromHex = (s) => Buffer.from(s, 'hex');

function fail(message) {
  process.stderr.write(`secure-vectors: ${message}\n`);
  process.exit(1);
}

/** spec §2: VERSION, OPCODE/status, LENGTH u16, IDENTIFIER u64, all big-endian. */
function header(version, code, length, id) {
  const out = Buffer.alloc(HEADER_SIZE);
  out[0] = version;
  out[1] = code;
  out.writeUInt16BE(length, 2);
  out.writeBigUInt64BE(id, 4);
  return out;
}

const frame = (version, code, id, body) => Buffer.concat([header(version, code, body.length, id), body]);

// RFC 7748 keys as node:crypto KeyObjects: the private key inside a PKCS#8
// wrapper (RFC 8410: OID 1.3.101.110), the public one as an OKP JWK.
const PKCS8_X25519 = fromHex('302e020100300506032b656e04220420');
const privateKeyOf = (raw) => createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
const publicKeyOf = (raw) => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
const rawPublic = (privateRaw) => Buffer.from(createPublicKey(privateKeyOf(privateRaw)).export({ format: 'jwk' }).x, 'base64url');
const x25519 = (privateRaw, publicRaw) => diffieHellman({ privateKey: privateKeyOf(privateRaw), publicKey: publicKeyOf(publicRaw) });

/** spec §6.4: XChaCha20-Poly1305, nonce = p_dir (16) ‖ IDENTIFIER (8), associated data = the header as sent. */
function seal(key, prefix, head, plaintext) {
  const nonce = Buffer.concat([prefix, head.subarray(4, 12)]);
  return Buffer.from(xchacha20poly1305(key, nonce, head).encrypt(plaintext));
}

/**
 * spec §6.4 (1.1), the nonce rule for fragments (§2.4): fragment `i` of a message is sealed
 * with `p_dir` whose last 4 bytes are XORed with u32be(i); fragment 0 keeps `p_dir`.
 */
function fragmentPrefix(prefix, i) {
  const out = Buffer.from(prefix);
  out.writeUInt32BE((out.readUInt32BE(12) ^ i) >>> 0, 12);
  return out;
}

/** Opens a whole sealed frame (header ‖ ciphertext ‖ tag); throws when it fails authentication. */
function open(key, prefix, sealed) {
  const head = sealed.subarray(0, HEADER_SIZE);
  const nonce = Buffer.concat([prefix, head.subarray(4, 12)]);
  return Buffer.from(xchacha20poly1305(key, nonce, head).decrypt(sealed.subarray(HEADER_SIZE)));
}

/** spec §6.2: `version u8 = 1`, `key_id_len u8`, key id, `client_pub`, then in 1.1 `options u8`. */
function helloBody(keyId, clientPub, options) {
  const id = Buffer.from(keyId, 'utf8');
  const tail = options === undefined ? [] : [Buffer.from([options])];
  return Buffer.concat([Buffer.from([1, id.length]), id, clientPub, ...tail]);
}

/** spec §6.3: the HKDF info, okm and the four values split from it. */
function schedule(dh, psk, keyId, clientPub, serverPub, options) {
  const tail = options === undefined ? [] : [Buffer.from([options])];
  const info = Buffer.concat([Buffer.from('conduit/1', 'utf8'), Buffer.from(keyId, 'utf8'), clientPub, serverPub, ...tail]);
  const okm = Buffer.from(hkdfSync('sha256', dh, psk, info, 96));
  return {
    info,
    okm,
    k_c2s: okm.subarray(0, 32),
    k_s2c: okm.subarray(32, 64),
    p_c2s: okm.subarray(64, 80),
    p_s2c: okm.subarray(80, 96),
  };
}

/**
 * spec §6.2 step 2: the OK to HELLO `id`, body `server_pub` ‖ AEAD(confirmation)
 * under k_s2c with the HELLO's identifier in the nonce and the reply's own
 * header as associated data; 1.0 confirms an empty message, 1.1 the byte `accepted`.
 */
function reply(keys, serverPub, id, confirmation) {
  const head = header(VERSION_RESPONSE, STATUS_OK, serverPub.length + confirmation.length + TAG_SIZE, id);
  return { head, frame: Buffer.concat([head, serverPub, seal(keys.k_s2c, keys.p_s2c, head, confirmation)]) };
}

/**
 * Parses an envelope's plaintext into its frames (spec §6.7: whole frames of
 * `version`, back to back, none running past the end); throws on anything else.
 */
function framesIn(plaintext, version) {
  const frames = [];
  for (let at = 0; at < plaintext.length; ) {
    if (plaintext.length - at < HEADER_SIZE) throw new Error(`a header cut at byte ${at} of the envelope`);
    if (plaintext[at] !== version) throw new Error(`VERSION ${plaintext[at]} inside the envelope at byte ${at}`);
    const length = plaintext.readUInt16BE(at + 2);
    const end = at + HEADER_SIZE + length;
    if (end > plaintext.length) throw new Error(`the frame at byte ${at} runs past the envelope's end`);
    frames.push({ code: plaintext[at + 1], id: plaintext.readBigUInt64BE(at + 4), body: plaintext.subarray(at + HEADER_SIZE, end) });
    at = end;
  }
  return frames;
}

/** spec §6.7: one envelope of `frames`, its header `version ‖ 0x11 ‖ LENGTH ‖ id`, sealed as §6.4 says. */
function envelope(version, key, prefix, id, frames) {
  const plaintext = Buffer.concat(frames);
  const head = header(version, SEALED, plaintext.length + TAG_SIZE, id);
  const sealed = Buffer.concat([head, seal(key, prefix, head, plaintext)]);
  // Check by the way back: open it with noble, parse what is inside, compare.
  const inner = framesIn(open(key, prefix, sealed), version);
  const expected = frames.map((f) => framesIn(f, version)[0]);
  if (inner.length !== expected.length) fail(`envelope ${hex(head)}: ${inner.length} frames inside, ${expected.length} put in`);
  inner.forEach((f, i) => {
    const e = expected[i];
    if (f.code !== e.code || f.id !== e.id || !f.body.equals(e.body)) fail(`envelope ${hex(head)}: frame ${i} differs once opened`);
  });
  const flipped = Buffer.from(sealed);
  flipped[HEADER_SIZE] ^= 1;
  let opened = true;
  try {
    open(key, prefix, flipped);
  } catch {
    opened = false;
  }
  if (opened) fail(`envelope ${hex(head)} still opens with a ciphertext bit flipped`);
  return { plaintext, frame: sealed };
}

// ---- protocol 1.0: reproduce `secure` exactly ------------------------------------------

const all = JSON.parse(readFileSync(vectorsPath, 'utf8'));
const v10 = all.secure;
if (v10 === undefined) fail('spec/vectors-v1.json has no `secure` member');

const psk = fromHex(v10.psk);
const clientPrivate = fromHex(v10.clientPrivate);
const serverPrivate = fromHex(v10.serverPrivate);
const clientPub = rawPublic(clientPrivate);
const serverPub = rawPublic(serverPrivate);
const dh = x25519(clientPrivate, serverPub);
if (!dh.equals(x25519(serverPrivate, clientPub))) fail('X25519 is not symmetric: the two sides disagree on dh');

/** What the 1.0 script must reproduce, member by member. */
function check10() {
  const keys = schedule(dh, psk, v10.keyId, clientPub, serverPub, undefined);
  const hello = frame(VERSION_REQUEST, OP_HELLO, 0n, helloBody(v10.keyId, clientPub, undefined));
  const { head, frame: replyFrame } = reply(keys, serverPub, 0n, Buffer.alloc(0));
  const setBody = fromHex(v10.request.plaintext);
  const setHead = header(VERSION_REQUEST, OP_SET, setBody.length + TAG_SIZE, 1n);
  const okHead = header(VERSION_RESPONSE, STATUS_OK, TAG_SIZE, 1n);
  const computed = {
    clientPublic: hex(clientPub),
    serverPublic: hex(serverPub),
    dh: hex(dh),
    info: hex(keys.info),
    okm: hex(keys.okm),
    k_c2s: hex(keys.k_c2s),
    k_s2c: hex(keys.k_s2c),
    p_c2s: hex(keys.p_c2s),
    p_s2c: hex(keys.p_s2c),
    helloFrame: hex(hello),
    replyHeader: hex(head),
    replyFrame: hex(replyFrame),
    'request.frame': hex(Buffer.concat([setHead, seal(keys.k_c2s, keys.p_c2s, setHead, setBody)])),
    'response.frame': hex(Buffer.concat([okHead, seal(keys.k_s2c, keys.p_s2c, okHead, Buffer.alloc(0))])),
  };
  const published = (name) => name.split('.').reduce((o, k) => o?.[k], v10);
  for (const [name, value] of Object.entries(computed)) {
    if (published(name) !== value) fail(`protocol 1.0 value secure.${name} not reproduced:\n  published ${published(name)}\n  computed  ${value}`);
  }
  // The request's plaintext is the SET the 1.0 vector names: greeting = hello, no flags, no expiry.
  const set = setBody;
  const keyLength = set[5];
  if (set[0] !== 0 || set.readUInt32BE(1) !== 0 || set.toString('utf8', 6, 6 + keyLength) !== 'greeting' || set.toString('utf8', 6 + keyLength) !== 'hello') {
    fail('secure.request.plaintext is not SET greeting = hello');
  }
  return Object.keys(computed).length;
}

const reproduced = check10();

// ---- protocol 1.1: the options byte and sealed envelopes -------------------------------

const options = ENVELOPES;
const accepted = ENVELOPES;
const keys = schedule(dh, psk, v10.keyId, clientPub, serverPub, options);
const hello = frame(VERSION_REQUEST, OP_HELLO, 0n, helloBody(v10.keyId, clientPub, options));
const answer = reply(keys, serverPub, 0n, Buffer.from([accepted]));
if (answer.frame.length !== HEADER_SIZE + 49) fail(`the 1.1 reply body is ${answer.frame.length - HEADER_SIZE} bytes, spec §6.2 says 49`);
if (!open(keys.k_s2c, keys.p_s2c, Buffer.concat([answer.head, answer.frame.subarray(HEADER_SIZE + 32)])).equals(Buffer.from([accepted]))) {
  fail('the 1.1 reply does not open to `accepted`');
}
// §6.3: the options byte is bound into the keys, so 1.1's differ from 1.0's.
if (keys.okm.equals(fromHex(v10.okm))) fail('the options byte did not change okm');

// The request envelope: the 1.0 vector's SET (identifier 1) and GET greeting (identifier 2).
const setFrame = frame(VERSION_REQUEST, OP_SET, 1n, fromHex(v10.request.plaintext));
const getFrame = frame(VERSION_REQUEST, OP_GET, 2n, Buffer.from('greeting', 'utf8'));
const request = envelope(VERSION_REQUEST, keys.k_c2s, keys.p_c2s, FIRST_ENVELOPE, [setFrame, getFrame]);
// The response envelope: OK (empty) to 1, OK hello to 2.
const okFrame = frame(VERSION_RESPONSE, STATUS_OK, 1n, Buffer.alloc(0));
const valueFrame = frame(VERSION_RESPONSE, STATUS_OK, 2n, Buffer.from('hello', 'utf8'));
const response = envelope(VERSION_RESPONSE, keys.k_s2c, keys.p_s2c, FIRST_ENVELOPE, [okFrame, valueFrame]);

// Fragments (§2.4) sealed alone (§6.4's nonce rule): SET greeting = "hello, fragmented world"
// (identifier 3) in three fragments, the first starting with total u32, MORE on the first two.
const OP_MORE = 0x80;
const fragmentedSet = Buffer.concat([fromHex('000000000008'), Buffer.from('greeting', 'utf8'), Buffer.from('hello, fragmented world', 'utf8')]);
const fragmentBodies = [
  Buffer.concat([Buffer.alloc(4), fragmentedSet.subarray(0, 12)]),
  fragmentedSet.subarray(12, 24),
  fragmentedSet.subarray(24),
];
fragmentBodies[0].writeUInt32BE(fragmentedSet.length, 0);
const fragments = fragmentBodies.map((plaintext, i) => {
  const code = OP_SET | (i < fragmentBodies.length - 1 ? OP_MORE : 0);
  const head = header(VERSION_REQUEST, code, plaintext.length + 16, 3n);
  const sealed = Buffer.concat([head, seal(keys.k_c2s, fragmentPrefix(keys.p_c2s, i), head, plaintext)]);
  // Each opens with its own number only: dropped or reordered fragments fail authentication.
  const nonceOf = (n) => Buffer.concat([fragmentPrefix(keys.p_c2s, n), head.subarray(4, 12)]);
  if (!Buffer.from(xchacha20poly1305(keys.k_c2s, nonceOf(i), head).decrypt(sealed.subarray(HEADER_SIZE))).equals(plaintext)) fail(`fragment ${i} does not open`);
  let opensAsOther = true;
  try {
    xchacha20poly1305(keys.k_c2s, nonceOf(i + 1), head).decrypt(sealed.subarray(HEADER_SIZE));
  } catch {
    opensAsOther = false;
  }
  if (opensAsOther) fail(`fragment ${i} opens with fragment number ${i + 1}`);
  return { plaintext, frame: sealed };
});
if (!fragments[0].frame.subarray(0, HEADER_SIZE).equals(header(VERSION_REQUEST, OP_SET | OP_MORE, fragmentBodies[0].length + 16, 3n))) fail('fragment 0 header');

const secure11 = {
  psk: v10.psk,
  keyId: v10.keyId,
  clientPrivate: v10.clientPrivate,
  clientPublic: hex(clientPub),
  serverPrivate: v10.serverPrivate,
  serverPublic: hex(serverPub),
  options: hex([options]),
  accepted: hex([accepted]),
  dh: hex(dh),
  info: hex(keys.info),
  okm: hex(keys.okm),
  k_c2s: hex(keys.k_c2s),
  k_s2c: hex(keys.k_s2c),
  p_c2s: hex(keys.p_c2s),
  p_s2c: hex(keys.p_s2c),
  helloFrame: hex(hello),
  replyHeader: hex(answer.head),
  replyFrame: hex(answer.frame),
  request: {
    frames: [hex(setFrame), hex(getFrame)],
    plaintext: hex(request.plaintext),
    frame: hex(request.frame),
    meaning: 'request envelope 2^63: SET greeting = hello (identifier 1), GET greeting (identifier 2)',
  },
  response: {
    frames: [hex(okFrame), hex(valueFrame)],
    plaintext: hex(response.plaintext),
    frame: hex(response.frame),
    meaning: 'response envelope 2^63: OK to 1, OK hello to 2',
  },
  fragments: {
    message: hex(fragmentedSet),
    plaintexts: fragments.map((f) => hex(f.plaintext)),
    frames: fragments.map((f) => hex(f.frame)),
    meaning: 'SET greeting = "hello, fragmented world" (identifier 3) in fragments 0, 1, 2 sealed alone under k_c2s, nonce p_c2s XOR u32be(i) ‖ identifier',
  },
};

process.stdout.write(`${JSON.stringify({ reproduced10: reproduced, secure11 }, null, 2)}\n`);

if (process.argv.includes('--write')) {
  writeVectors();
  writeSpec();
  process.stderr.write('secure-vectors: wrote spec/vectors-v1.json → secure11 and the 1.1 rows of spec §6.6\n');
}

/** Puts `secure11` right after `secure`, the rest of the file as it was. */
function writeVectors() {
  const entries = Object.entries(all).filter(([name]) => name !== 'secure11');
  const at = entries.findIndex(([name]) => name === 'secure') + 1;
  entries.splice(at, 0, ['secure11', secure11]);
  writeFileSync(vectorsPath, `${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`);
}

/** The 1.1 rows of the §6.6 table and the sentence saying what `secure11` holds (replaced when present). */
function writeSpec() {
  const rows = [
    ['1.1 HELLO frame (options 0x01)', secure11.helloFrame],
    ['1.1 server reply (OK, server_pub ‖ sealed accepted 0x01)', secure11.replyFrame],
    ['1.1 HKDF info (ends with options)', secure11.info],
    ['1.1 k_c2s', secure11.k_c2s],
    ['1.1 k_s2c', secure11.k_s2c],
    ['1.1 p_c2s', secure11.p_c2s],
    ['1.1 p_s2c', secure11.p_s2c],
    ['1.1 request envelope plaintext (SET id 1, GET id 2)', secure11.request.plaintext],
    ['1.1 request envelope, identifier 2^63', secure11.request.frame],
    ['1.1 response envelope plaintext (OK to 1, OK hello to 2)', secure11.response.plaintext],
    ['1.1 response envelope, identifier 2^63', secure11.response.frame],
    ['1.1 fragment 0 of SET greeting (identifier 3), sealed', secure11.fragments.frames[0]],
    ['1.1 fragment 1, sealed with p_c2s XOR 00000001', secure11.fragments.frames[1]],
    ['1.1 fragment 2 (last, MORE clear), sealed with p_c2s XOR 00000002', secure11.fragments.frames[2]],
  ].map(([what, value]) => `| ${what} | \`${value}\` |`);
  const sentence = [
    '`vectors-v1.json` → `secure11` holds the same handshake in protocol 1.1',
    '(§6.2, §6.3, §6.7), with the same keys and identifiers, computed by',
    '`scripts/secure-vectors.mjs` (`node:crypto` and `@noble/ciphers`, none of',
    'the reference implementation; it recomputes `secure` first): the HELLO',
    'with `options` = 0x01, the HKDF info ending with it and the values',
    'derived from it, the 49-byte reply granting envelopes (`accepted` =',
    '0x01), and one envelope each way with identifier 2^63: the SET above',
    '(identifier 1) and `GET greeting` (identifier 2), answered by OK and OK',
    '`hello`; and a SET (identifier 3) in three fragments sealed alone with',
    'their fragment numbers 0, 1, 2 (§2.4, §6.4). Rows starting with 1.1 are',
    'those values.',
  ];

  const lines = readFileSync(specPath, 'utf8').split('\n');
  const section = lines.findIndex((l) => l.startsWith('### 6.6 '));
  if (section < 0) fail('spec/conduit-v1.md has no §6.6');
  const next = lines.findIndex((l, i) => i > section && l.startsWith('#'));
  const body = lines.slice(section, next).filter((l) => !l.startsWith('| 1.1 '));
  // Drop an earlier `secure11` paragraph (it starts with the line naming it and ends at a blank line).
  const old = body.findIndex((l) => l.startsWith('`vectors-v1.json` → `secure11`'));
  if (old >= 0) {
    let end = old;
    while (end < body.length && body[end] !== '') end += 1;
    body.splice(old, end - old + 1);
  }
  const table = body.findIndex((l) => l.startsWith('| what | hex |'));
  if (table < 0) fail('§6.6 has no `| what | hex |` table');
  let last = table + 2;
  while (last < body.length && body[last].startsWith('| ')) last += 1;
  body.splice(last, 0, ...rows);
  body.splice(table, 0, ...sentence, '');
  lines.splice(section, next - section, ...body);
  writeFileSync(specPath, lines.join('\n'));
}
