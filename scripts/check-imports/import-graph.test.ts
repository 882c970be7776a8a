import { describe, expect, it } from 'vitest';
import { findCycles, importRuleViolations, unitOf, type ImportGraph } from './import-graph.ts';

const graphOf = (entries: Record<string, string[]>): ImportGraph => new Map(Object.entries(entries));

describe('findCycles', () => {
  it('finds a cycle between two lib folders that no single file shows', () => {
    const graph = graphOf({
      'lib/chunking/chunk-text.ts': ['lib/knowledge/types.ts'],
      'lib/knowledge/types.ts': [],
      'lib/knowledge/knowledge-base.ts': ['lib/chunking/chunk-text.ts'],
    });
    expect(findCycles(graph, { nodeOf: unitOf })).toEqual([['lib/chunking', 'lib/knowledge']]);
    expect(findCycles(graph, { nodeOf: (file) => file })).toEqual([]);
  });

  it('treats a top-level lib file as its own unit and ignores imports inside one folder', () => {
    const graph = graphOf({
      'lib/config.ts': ['lib/contracts.ts'],
      'lib/db/connect.ts': ['lib/config.ts', 'lib/db/embedded.ts'],
      'lib/db/embedded.ts': ['lib/db/connect.ts'],
    });
    expect(findCycles(graph, { nodeOf: unitOf })).toEqual([]);
    expect(findCycles(graph, { nodeOf: (file) => file })).toEqual([['lib/db/connect.ts', 'lib/db/embedded.ts']]);
  });
});

describe('importRuleViolations', () => {
  it('names product files that import tests/, lib files that import functions/, and cross-function imports', () => {
    const problems = importRuleViolations(
      graphOf({
        'functions/ws-chat/harness.ts': ['tests/support/fake-llm-server.ts'],
        'lib/http/page.ts': ['functions/ws-chat/protocol.ts'],
        'functions/search/app.ts': ['functions/add-document/route.ts', 'lib/errors.ts'],
        'functions/app.ts': ['functions/search/app.ts'],
      }),
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^functions\/ws-chat\/harness\.ts imports tests\//);
    expect(problems[1]).toMatch(/^lib\/http\/page\.ts imports functions\//);
    expect(problems[2]).toMatch(/^functions\/search\/app\.ts imports functions\/add-document/);
  });
});
