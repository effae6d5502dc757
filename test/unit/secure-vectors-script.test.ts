import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { specPath, vectors } from '../support/vectors.js';

const script = fileURLToPath(new URL('../../scripts/secure-vectors.mjs', import.meta.url));

// scripts/secure-vectors.mjs computes spec §6.6's vectors without src/
// (node:crypto X25519 and HKDF, noble's XChaCha20-Poly1305 with the full
// 24-byte nonce). It exits 1 when it cannot reproduce `secure`, so a green
// run here also says the published 1.0 values still come out of it.
describe('scripts/secure-vectors.mjs', () => {
  const printed = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' })) as {
    reproduced10: number;
    secure11: unknown;
  };

  it('reproduces every protocol 1.0 value of `secure`', () => {
    expect(printed.reproduced10).toBe(14);
  });

  it('computes exactly the `secure11` published in spec/vectors-v1.json', () => {
    expect(printed.secure11).toEqual((vectors as unknown as { secure11: unknown }).secure11);
  });

  it('left the spec file as --write makes it (every 1.1 row is in §6.6)', () => {
    const spec = readFileSync(specPath, 'utf8');
    const section = spec.slice(spec.indexOf('### 6.6 '), spec.indexOf('## 7. '));
    const v = printed.secure11 as { helloFrame: string; replyFrame: string; info: string; request: { frame: string; plaintext: string }; response: { frame: string; plaintext: string } };
    for (const value of [v.helloFrame, v.replyFrame, v.info, v.request.plaintext, v.request.frame, v.response.plaintext, v.response.frame]) {
      expect(section).toContain(`\`${value}\``);
    }
  });
});
