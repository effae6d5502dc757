#!/usr/bin/env node
// Imports point one way (CONTRIBUTING.md, "Map of src/"): a folder of src/ may import its
// own files and the folders of lower layers, never a folder of its own layer or above,
// and no files may import each other in a cycle (type-only imports count: they are
// how cycles start). src/index.ts, the package root, re-exports every folder and is
// the one file exempt from the layers.
//
//   node scripts/check-imports.mjs [root]   # root defaults to this repository
//
// Prints every violation and exits 1, or prints a one-line summary and exits 0.
// `npm test` runs it (test/unit/layers.test.ts); so does `npx just check`.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Layer of each folder under src/: lower numbers are further down. A new folder goes in
 * here and in CONTRIBUTING.md's map, or the check fails.
 *
 * @example
 * ```js
 * LAYERS.server > LAYERS.protocol; // true: server/ may import protocol/, not the other way
 * ```
 */
export const LAYERS = {
  protocol: 0,
  config: 0,
  store: 1,
  crypto: 1,
  server: 2,
  client: 2,
  http: 3,
  cli: 4,
};

/** Files exempt from the layer rule (paths relative to src/). */
const EXEMPT = new Set(['index.ts']);

/** Every .ts file under `dir`, as paths relative to `root`. */
function sourcesOf(root, dir) {
  const files = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourcesOf(root, path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

/**
 * The relative specifiers a file imports or re-exports (static, side-effect and dynamic),
 * comments removed first so that JSDoc examples do not count.
 */
function specifiersOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = [];
  const patterns = [
    /(?:^|[\n;])\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) found.push(match[1]);
  return found.filter((s) => s.startsWith('.'));
}

/** The src/ folder a path (relative to src/) is in, or undefined for a file directly in src/. */
function folderOf(path) {
  const parts = path.split(sep);
  return parts.length > 1 ? parts[0] : undefined;
}

/**
 * Checks the imports of `root`/src; returns the violations, one line each.
 *
 * @example
 * ```js
 * checkImports(process.cwd()); // [] when every import points down
 * ```
 */
export function checkImports(root) {
  const src = join(root, 'src');
  const files = sourcesOf(src, '.').map((f) => relative('.', f)).sort();
  const known = new Set(files);
  const problems = [];
  /** @type {Map<string, string[]>} */
  const graph = new Map();
  for (const file of files) {
    const edges = [];
    const from = folderOf(file);
    if (from !== undefined && !(from in LAYERS)) problems.push(`src/${file}: folder src/${from}/ is not in the layer table of scripts/check-imports.mjs`);
    if (from === undefined && !EXEMPT.has(file)) problems.push(`src/${file}: only src/index.ts lives directly in src/; put it in the folder of its layer`);
    for (const specifier of specifiersOf(readFileSync(join(src, file), 'utf8'))) {
      const target = relative(src, resolve(src, dirname(file), specifier)).replace(/\.js$/, '.ts');
      if (target.startsWith('..')) {
        problems.push(`src/${file} imports ${specifier}, outside src/`);
        continue;
      }
      if (!known.has(target)) {
        problems.push(`src/${file} imports ${specifier}: no such file src/${target}`);
        continue;
      }
      edges.push(target);
      const to = folderOf(target);
      if (EXEMPT.has(file) || from === to) continue;
      if (to === undefined) {
        problems.push(`src/${file} imports src/${target}: only src/index.ts lives above the folders`);
      } else if (from !== undefined && to in LAYERS && from in LAYERS && LAYERS[to] >= LAYERS[from]) {
        const way = LAYERS[to] > LAYERS[from] ? 'up' : 'sideways';
        problems.push(`src/${file} imports src/${target}: ${from}/ (layer ${LAYERS[from]}) may not import ${to}/ (layer ${LAYERS[to]}), an arrow pointing ${way}`);
      }
    }
    graph.set(file, edges);
  }
  for (const cycle of cyclesOf(graph)) problems.push(`import cycle: ${[...cycle, cycle[0]].map((f) => `src/${f}`).join(' -> ')}`);
  return problems;
}

/** The strongly connected components of more than one file, or one that imports itself (Tarjan). */
function cyclesOf(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  let next = 0;
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node), low.get(to)));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node), index.get(to)));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component.reverse());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const problems = checkImports(root);
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(`${p}\n`);
    process.stderr.write(`check-imports: ${problems.length} problem(s); the layers are in CONTRIBUTING.md\n`);
    process.exit(1);
  }
  const count = sourcesOf(join(root, 'src'), '.').length;
  process.stdout.write(`check-imports: ${count} files in src/, no cycle, every import points down\n`);
}
