// nodeFlagsOf (test/support/cli.ts): the Node flags a script's first line passes, which
// the tests and `just chaos` give `process.execPath` when they start conduit-server.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFlagsOf } from '../support/cli.js';

const root = new URL('../..', import.meta.url).pathname;

describe('nodeFlagsOf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-node-flags-'));
  const script = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it.each([
    ['env -S with flags', '#!/usr/bin/env -S node --max-semi-space-size=1 --stack-size=2000\nrun();\n', ['--max-semi-space-size=1', '--stack-size=2000']],
    ['plain env node', '#!/usr/bin/env node\nrun();\n', []],
    ['no first-line interpreter', 'run();\n', []],
    ['flags mentioned on a later line only', 'run();\n#!/usr/bin/env -S node --x\n', []],
  ])('%s', (name, text, flags) => {
    expect(nodeFlagsOf(script(`${name.replaceAll(' ', '-')}.js`, text))).toEqual(flags);
  });

  it("conduit-server's first line passes the flags `npm start` passes", () => {
    const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const fromStart = /^exec node (.*) dist\/cli\/server\.js$/.exec(start)?.[1]?.split(' ') ?? [];
    const fromBin = nodeFlagsOf(join(root, 'src/cli/server.ts'));
    expect(fromBin).toContain('--max-semi-space-size=1');
    expect(fromBin).toEqual(fromStart);
  });
});
