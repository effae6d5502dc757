// What the published package holds and how it loads (issue 15 item 16).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '../support/run-node.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the package', () => {
  it("require('conduit-cache') works from a CommonJS file (Node 20.19+ loads the ES module)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-require-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'conduit-cache'), 'dir');
    const file = join(dir, 'app.cjs');
    writeFileSync(file, "const c = require('conduit-cache');\nconsole.log(typeof c.ConduitClient, typeof c.ConduitServer, c.generateKey().length);\n");
    const { code, out, err } = await runNode(file, dir);
    expect(err).toBe('');
    expect([code, out]).toEqual([0, 'function function 44\n']);
  });

  it('every source a shipped .map names is shipped too', () => {
    // --ignore-scripts: "prepare" would rebuild dist/ under the other tests' feet.
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 60_000 })) as {
      files: { path: string }[];
    }[];
    const shipped = new Set(packed[0]?.files.map((f) => f.path));
    const maps = [...shipped].filter((p) => p.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const path = normalize(join(dirname(map), sourceRoot, source));
        if (!shipped.has(path)) missing.push(`${map} -> ${path}`);
      }
    }
    expect(missing).toEqual([]);
  }, 60_000);
});
