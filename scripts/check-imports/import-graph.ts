/** Each file's imports, as project-relative paths (`lib/db/connect.ts`). */
export type ImportGraph = Map<string, string[]>;

const FOLDERED_ROOTS = ['lib', 'functions', 'scripts'];

/**
 * The unit a file belongs to for the folder rule: `lib/db/connect.ts` → `lib/db`; a file at
 * the top of lib/, functions/ or scripts/ is a unit of its own (`lib/config.ts`); anything
 * else belongs to its first two path segments (`web/src`, `tests/support`).
 */
export function unitOf(file: string): string {
  const segments = file.split('/');
  if (FOLDERED_ROOTS.includes(segments[0]!)) return segments.length > 2 ? segments.slice(0, 2).join('/') : file;
  return segments.slice(0, 2).join('/');
}

/**
 * The strongly connected groups of more than one node (Tarjan's algorithm) once every file
 * is mapped to its node: each group is a cycle, its members listed in a stable order.
 */
export function findCycles(graph: ImportGraph, options: { nodeOf: (file: string) => string }): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = options.nodeOf(file);
    const out = edges.get(from) ?? new Set<string>();
    edges.set(from, out);
    for (const target of targets) {
      const to = options.nodeOf(target);
      if (to !== from) out.add(to);
    }
  }
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    lowLink.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        lowLink.set(node, Math.min(lowLink.get(node)!, lowLink.get(next)!));
      } else if (onStack.has(next)) {
        lowLink.set(node, Math.min(lowLink.get(node)!, index.get(next)!));
      }
    }
    if (lowLink.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    if (group.length > 1) groups.push(group.sort());
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) visit(node);
  return groups;
}

/**
 * Imports that break the direction of the house: product code importing tests/ or bench/,
 * lib/ importing functions/, and one folder of functions/ importing another.
 */
export function importRuleViolations(graph: ImportGraph): string[] {
  const problems: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      if (target.startsWith('tests/') || target.startsWith('bench/')) problems.push(`${file} imports ${target}: product code never imports tests/ or bench/`);
      if (file.startsWith('lib/') && target.startsWith('functions/')) problems.push(`${file} imports ${target}: lib/ never imports functions/`);
      const fromUnit = unitOf(file);
      const toUnit = unitOf(target);
      if (file.startsWith('functions/') && target.startsWith('functions/') && fromUnit !== file && toUnit !== target && fromUnit !== toUnit) {
        problems.push(`${file} imports ${target}: one folder of functions/ never imports another (what they share belongs in lib/)`);
      }
    }
  }
  return problems;
}
