import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '../support/run-node.js';
import { startServer } from '../support/server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('README', () => {
  it('the Node example runs as shown and prints what its comments say', async () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const block = /<!-- readme-example[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const { port } = await startServer();
    // Inside the package folder 'conduit-cache' resolves to this package (self-reference through "exports").
    const file = `${root}dist/readme-example.mjs`;
    writeFileSync(file, (block ?? '').replace('port: 7171', `port: ${port}`));
    const { code, out, err } = await runNode(file);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toBe('hello\n1n\nfalse\n');
  });

  it('the RESP example (ioredis and node-redis against --resp-port) runs as shown and prints what its comments say', { timeout: 20_000 }, async () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const block = /<!-- readme-resp-example[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const { respPort } = await startServer({ respPort: 0 });
    // In dist/ so that 'ioredis' and 'redis' resolve from this package's node_modules.
    const file = `${root}dist/readme-resp-example.mjs`;
    writeFileSync(file, (block ?? '').replaceAll('6380', String(respPort)));
    const { code, out, err } = await runNode(file);
    expect(err).toBe('');
    expect(code).toBe(0);
    // What the comments say, in order.
    const expected = [...(block ?? '').matchAll(/console\.log\(.*\); \/\/ (\S+)/g)].map((m) => m[1]);
    expect(expected).toEqual(['hello', '5', 'hello', '1']);
    expect(out).toBe(`${expected.join('\n')}\n`);
  });
});
