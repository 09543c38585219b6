#!/usr/bin/env node
// Import cycles between the modules of each package's source (packages/*/src/**/*.ts): no dependencies, run by
// `pnpm lint` and CI. Follows every relative `import … from`, `import type … from`, `export … from` and bare
// `import './x'`; './x' is x.ts or x/index.ts ('./x.js' is x.ts). Prints each cycle as a path, with the group of
// modules it belongs to (modules that all reach one another), and exits 1 if there is any.
//
//   node scripts/check-cycles.mjs [root]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));

/** Every .ts file under `dir` (declaration files too: their imports count alike), sorted. */
function sourceFiles(dir) {
  const files = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(full));
    else if (entry.isFile() && /\.(?:ts|mts|cts)$/.test(entry.name)) files.push(full);
  }
  return files;
}

/** Blanks comments out (strings kept), so an import written in a doc comment is no import. */
function withoutComments(text) {
  let out = '';
  let quote;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === quote) quote = undefined;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop - 1;
    } else {
      if (c === '"' || c === "'" || c === '`') quote = c;
      out += c;
    }
  }
  return out;
}

// At a statement's start: `import`/`export`, then anything but quotes and semicolons (names, braces, `type`,
// `* as x`, over several lines), then `from`, or for a bare import the specifier straight away.
const IMPORT = /(?:^|[;}\n])\s*(?:import|export)\s+(?:[^'"`;]*?\bfrom\s*)?(['"])(\.{1,2}\/[^'"]*|\.{1,2})\1/g;

function relativeImports(file) {
  const specifiers = [];
  for (const match of withoutComments(readFileSync(file, 'utf8')).matchAll(IMPORT)) specifiers.push(match[2]);
  return specifiers;
}

function resolve(from, specifier, known) {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [
    base,
    `${base}.ts`,
    `${base}.mts`,
    `${base}.cts`,
    path.join(base, 'index.ts'),
    base.replace(/\.(m|c)?js$/, '.$1ts'),
  ];
  return candidates.find((candidate) => known.has(candidate));
}

/** Tarjan's strongly connected components (iterative: no recursion limit on deep chains). */
function components(graph) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const found = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [[start, 0]];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [node, edge] = frame;
      const targets = graph.get(node);
      if (edge < targets.length) {
        frame[1]++;
        const target = targets[edge];
        if (!index.has(target)) {
          index.set(target, next);
          low.set(target, next++);
          stack.push(target);
          onStack.add(target);
          work.push([target, 0]);
        } else if (onStack.has(target)) low.set(node, Math.min(low.get(node), index.get(target)));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent[0], Math.min(low.get(parent[0]), low.get(node)));
      if (low.get(node) === index.get(node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        found.push(component);
      }
    }
  }
  return found;
}

/**
 * Cycles within one component: for each import between two of its modules, the shortest cycle through it (so
 * every import that takes part in a cycle shows in one), each starting at its smallest module, duplicates
 * dropped.
 */
function cyclesIn(component, graph) {
  const members = new Set(component);
  const cycles = new Map();
  /** The shortest path from `from` to `to` within the component (breadth first), both ends included. */
  const shortestPath = (from, to) => {
    const previous = new Map([[from, undefined]]);
    const queue = [from];
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i];
      if (node === to) break;
      for (const target of graph.get(node)) {
        if (!members.has(target) || previous.has(target)) continue;
        previous.set(target, node);
        queue.push(target);
      }
    }
    const found = [];
    for (let node = to; node !== undefined; node = previous.get(node)) found.unshift(node);
    return found;
  };
  for (const node of [...component].sort()) {
    for (const target of graph.get(node)) {
      if (!members.has(target)) continue;
      // node -> target, then back from target to node.
      const cycle = target === node ? [node] : [node, ...shortestPath(target, node).slice(0, -1)];
      const first = cycle.indexOf([...cycle].sort()[0]);
      const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
      cycles.set(rotated.join('\0'), rotated);
    }
  }
  return [...cycles.values()].sort((a, b) => a.length - b.length || a.join().localeCompare(b.join()));
}

const packagesDir = path.join(root, 'packages');
const files = readdirSync(packagesDir)
  .sort()
  .map((name) => path.join(packagesDir, name, 'src'))
  .filter((dir) => existsSync(dir) && statSync(dir).isDirectory())
  .flatMap(sourceFiles);
const known = new Set(files);
const graph = new Map();
for (const file of files) {
  const targets = new Set();
  for (const specifier of relativeImports(file)) {
    const target = resolve(file, specifier, known);
    if (target !== undefined) targets.add(target);
  }
  graph.set(file, [...targets].sort());
}

const show = (file) => path.relative(root, file).split(path.sep).join('/');
let count = 0;
for (const component of components(graph)) {
  const selfImport = component.length === 1 && graph.get(component[0]).includes(component[0]);
  if (component.length === 1 && !selfImport) continue;
  const cycles = cyclesIn(component, graph);
  console.error(`import cycle among ${component.length} module(s): ${component.map(show).sort().join(', ')}`);
  for (const cycle of cycles) console.error(`  ${[...cycle, cycle[0]].map(show).join(' -> ')}`);
  count += cycles.length;
}
if (count > 0) {
  console.error(`${count} import cycle(s) in ${files.length} modules`);
  process.exit(1);
}
console.log(`no import cycles in ${files.length} modules`);
