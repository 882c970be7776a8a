// `npx tsx scripts/check-imports.ts`: the import rules of the house (issue 13), checked on
// every TypeScript file of the product (functions/, lib/, scripts/, web/src/):
//   - no product file imports tests/ or bench/ (test doubles never reach the product),
//   - lib/ never imports functions/, and one function folder never imports another,
//   - no cycle between lib's folders (or its top-level files), nor between files.
// Test files (`*.test.ts`) may import anything. Exits 1 and names every violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCycles, importRuleViolations, unitOf, type ImportGraph } from './check-imports/import-graph.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
const PRODUCT_ROOTS = ['functions', 'lib', 'scripts', 'web/src'];
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist']);

/** Relative specifiers of every static import, re-export and dynamic `import('…')`. */
const IMPORT_SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function listTypeScript(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(path.join(PROJECT_ROOT, folder))) {
    if (SKIPPED_FOLDERS.has(entry)) continue;
    const relative = path.posix.join(folder, entry);
    if (statSync(path.join(PROJECT_ROOT, relative)).isDirectory()) found.push(...listTypeScript(relative));
    else if (/\.(ts|mts|tsx)$/.test(entry) && !entry.endsWith('.d.ts')) found.push(relative);
  }
  return found;
}

function readImportGraph(): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of PRODUCT_ROOTS.flatMap(listTypeScript)) {
    const source = readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
    const targets = [...source.matchAll(IMPORT_SPECIFIER)].map((match) => path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]!)));
    graph.set(file, targets);
  }
  return graph;
}

const graph = readImportGraph();
const productGraph: ImportGraph = new Map([...graph].filter(([file]) => !file.endsWith('.test.ts')));
const problems = importRuleViolations(productGraph);
for (const cycle of findCycles(productGraph, { nodeOf: unitOf })) problems.push(`folder cycle: ${cycle.join(' -> ')} -> ${cycle[0]}`);
for (const cycle of findCycles(productGraph, { nodeOf: (file) => file })) problems.push(`file cycle: ${cycle.join(' -> ')} -> ${cycle[0]}`);

if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} problem(s)\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  process.exitCode = 1;
} else {
  console.log(`check-imports: ${productGraph.size} product files, no cycles, no imports of tests/ or bench/`);
}
