// The import graph of src/ (issue 16): no cycle, no arrow pointing up or sideways.
// scripts/check-imports.mjs holds the layer table; CONTRIBUTING.md shows it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = join(root, 'scripts', 'check-imports.mjs');

function check(dir?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [script, ...(dir === undefined ? [] : [dir])], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A throw-away tree with the given files under src/. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-layers-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'src', path)), { recursive: true });
    writeFileSync(join(dir, 'src', path), text);
  }
  return dir;
}

describe('imports point one way', () => {
  it('src/ has no import cycle and no upward or sideways import', () => {
    const { status, stdout, stderr } = check();
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/no cycle, every import points down/);
  });

  it('a lower folder importing a higher one fails, naming both files and the layers', () => {
    const dir = tree({
      'index.ts': "export * from './server/server.js';\n",
      'protocol/decoder.ts': "import type { ConduitServer } from '../server/server.js';\nexport type X = ConduitServer;\n",
      'server/server.ts': 'export class ConduitServer {}\n',
      'server/gateway-user.ts': "import { HttpGateway } from '../http/gateway.js';\nexport const g = HttpGateway;\n",
      'http/gateway.ts': 'export class HttpGateway {}\n',
    });
    const { status, stderr } = check(dir);
    expect(status).toBe(1);
    expect(stderr).toContain('src/protocol/decoder.ts imports src/server/server.ts: protocol/ (layer 0) may not import server/ (layer 2), an arrow pointing up');
    expect(stderr).toContain('src/server/gateway-user.ts imports src/http/gateway.ts: server/ (layer 2) may not import http/ (layer 3), an arrow pointing up');
    expect(stderr).toContain('check-imports: 2 problem(s)');
  });

  it('a cycle fails even when type-only and inside one folder (connection.ts <-> metrics.ts, as it was)', () => {
    const dir = tree({
      'server/connection.ts': "import type { Metrics } from './metrics.js';\nexport type DisconnectCause = 'idle';\nexport type M = Metrics;\n",
      'server/metrics.ts': "import type {\n  DisconnectCause,\n} from './connection.js';\nexport class Metrics { c?: DisconnectCause; }\n",
    });
    const { status, stderr } = check(dir);
    expect(status).toBe(1);
    expect(stderr).toContain('import cycle: src/server/connection.ts -> src/server/metrics.ts -> src/server/connection.ts');
  });

  it('sideways imports, files loose in src/ and folders missing from the table fail; comments do not count', () => {
    const dir = tree({
      'errors.ts': 'export class ConduitError extends Error {}\n',
      'protocol/decoder.ts': "// import { nothing } from '../cli/server.js';\n/** import { Store } from '../store/store.js'; */\nimport { ConduitError } from '../errors.js';\nexport const E = ConduitError;\n",
      'store/store.ts': "export { seal } from '../crypto/seal.js';\n",
      'crypto/seal.ts': 'export const seal = 1;\n',
      'extras/thing.ts': 'export const thing = 1;\n',
    });
    const { status, stderr } = check(dir);
    expect(status).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      "src/errors.ts: only src/index.ts lives directly in src/; put it in the folder of its layer",
      'src/extras/thing.ts: folder src/extras/ is not in the layer table of scripts/check-imports.mjs',
      'src/protocol/decoder.ts imports src/errors.ts: only src/index.ts lives above the folders',
      'src/store/store.ts imports src/crypto/seal.ts: store/ (layer 1) may not import crypto/ (layer 1), an arrow pointing sideways',
      'check-imports: 4 problem(s); the layers are in CONTRIBUTING.md',
    ]);
  });
});
