// The RSS rule users are told (README "How much memory to give it", `conduit-server --help`)
// is the one `just chaos` scenario 6 enforces: one rule, stated three times, kept equal here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RSS_BASE_MIB, RSS_FACTOR } from '../chaos/scenarios/memory.js';

const root = new URL('../..', import.meta.url).pathname;
const readme = readFileSync(`${root}README.md`, 'utf8').replace(/\s+/g, ' ');
const serverCli = readFileSync(`${root}src/cli/server.ts`, 'utf8');

describe('the RSS rule', () => {
  it("README's rule is scenario 6's bound", () => {
    expect(readme).toContain(`**Give the process (container limit, \`MemoryMax=\`) at least ${RSS_FACTOR} × \`--max-memory\` + ${RSS_BASE_MIB} MiB**`);
  });

  it("--help's rule is scenario 6's bound", () => {
    expect(serverCli).toContain(`'Give the process ${RSS_FACTOR} × --max-memory + ${RSS_BASE_MIB} MiB of RAM (README: How much memory).'`);
  });
});
