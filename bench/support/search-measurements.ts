import { jsonRequest, type BenchKnowledge } from './knowledge-setup.ts';
import { searchChunks } from '../../lib/db/search-query.ts';
import { explainPlan, exactVectorSearch, indexedVectorSearch, vectorText } from './raw-search.ts';
import { elapsedMs, median, percentile } from './stats.ts';

interface Distribution {
  p50: number;
  p95: number;
  mean: number;
}

export interface LatencyResult {
  service: Distribution;
  raw: Distribution;
  /** The query embedding alone, inside the raw path. */
  embed: Distribution;
  p50Ratio: number;
  p95Ratio: number;
  samples: number;
  passes: number;
  /** Queries whose top-k (source, chunk_index) were identical on both paths. */
  agreeing: number;
  compared: number;
}

const PASSES = 2;
const WARM_UP = 20;

/**
 * Latency of the endpoint and of the raw path for each query, the two run back to back in
 * alternating order, `PASSES` times over the queries after a warm-up. Answers are compared, so
 * a ratio is never taken between two paths that did different work.
 */
export async function measureLatency(knowledge: BenchKnowledge, queries: string[], options: { topK: number }): Promise<LatencyResult> {
  const { app, embedder, database } = knowledge;
  const body = (query: string) => ({ query, top_k: options.topK, mode: 'vector' });
  const service = async (query: string) => {
    const start = performance.now();
    const response = await app.request('/api/v1/knowledge/search', jsonRequest('POST', body(query)));
    const payload = (await response.json()) as { results?: { source: string; chunk_index: number }[] };
    const took = elapsedMs(start);
    if (response.status !== 200 || !payload.results) throw new Error(`search ${JSON.stringify(query)}: ${response.status} ${JSON.stringify(payload)}`);
    return { took, keys: payload.results.map((hit) => `${hit.source}#${hit.chunk_index}`) };
  };
  const raw = async (query: string) => {
    const start = performance.now();
    const [embedding] = await embedder.embed([query]);
    const embedMs = elapsedMs(start);
    // The service's own statement (lib/db/search-query.ts) on the same pool: only the HTTP
    // layer, validation, the store wrapper and JSON are left out.
    const hits = await searchChunks(database.sql, { embedding: embedding!, text: query }, { topK: options.topK, mode: 'vector' }, database.efSearch);
    return { took: elapsedMs(start), embedMs, keys: hits.map((hit) => `${hit.source}#${hit.chunkIndex}`) };
  };

  for (const query of queries.slice(0, WARM_UP)) {
    await service(query);
    await raw(query);
  }
  const serviceTimes: number[] = [];
  const rawTimes: number[] = [];
  const embedTimes: number[] = [];
  let agreeing = 0;
  let compared = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    for (const [index, query] of queries.entries()) {
      const serviceFirst = (index + pass) % 2 === 0;
      const first = serviceFirst ? await service(query) : await raw(query);
      const second = serviceFirst ? await raw(query) : await service(query);
      const serviceRun = serviceFirst ? first : second;
      const rawRun = (serviceFirst ? second : first) as Awaited<ReturnType<typeof raw>>;
      serviceTimes.push(serviceRun.took);
      rawTimes.push(rawRun.took);
      embedTimes.push(rawRun.embedMs);
      compared++;
      if (serviceRun.keys.join() === rawRun.keys.join()) agreeing++;
    }
  }
  const distribution = (values: number[]): Distribution => ({ p50: median(values), p95: percentile(values, 95), mean: values.reduce((sum, value) => sum + value, 0) / values.length });
  const serviceDistribution = distribution(serviceTimes);
  const rawDistribution = distribution(rawTimes);
  return {
    service: serviceDistribution,
    raw: rawDistribution,
    embed: distribution(embedTimes),
    p50Ratio: serviceDistribution.p50 / rawDistribution.p50,
    p95Ratio: serviceDistribution.p95 / rawDistribution.p95,
    samples: serviceTimes.length,
    passes: PASSES,
    agreeing,
    compared,
  };
}

export interface RecallResult {
  queries: number;
  byEfSearch: { efSearch: number; recall: number; minimum: number; meanMs: number }[];
  indexedPlan: string;
  exactPlan: string;
}

/**
 * recall@k of the HNSW index: the share of the exact top k (index scans off) that the indexed
 * query returns, per query, averaged; first at the service's ef_search (RAG_HNSW_EF_SEARCH),
 * then at pgvector's default (40) and larger values for comparison.
 */
export async function measureRecall(knowledge: BenchKnowledge, queries: string[], topK: number, serviceEfSearch: number): Promise<RecallResult> {
  const { embedder, database } = knowledge;
  const vectors = (await embedder.embed(queries)).map(vectorText);
  // The query vector is a parameter; keep its 384 numbers out of the printed plan.
  const shortPlan = (plan: string) => plan.replace(/'\[[^\]]*\]'/g, '$1');
  const indexedPlan = shortPlan(await explainPlan(database.sql, vectors[0]!, topK, false));
  const exactPlan = shortPlan(await explainPlan(database.sql, vectors[0]!, topK, true));
  if (!indexedPlan.includes('knowledge_chunks_embedding_hnsw')) throw new Error(`the indexed query does not use the HNSW index:\n${indexedPlan}`);
  if (exactPlan.includes('knowledge_chunks_embedding_hnsw')) throw new Error(`the exact query still uses the HNSW index:\n${exactPlan}`);
  const exact: Set<string>[] = [];
  console.error(`recall: exact scans of ${vectors.length} queries`);
  for (const vector of vectors) exact.push(new Set((await exactVectorSearch(database.sql, vector, topK)).map((hit) => String(hit.id))));
  const byEfSearch = [];
  for (const efSearch of [...new Set([serviceEfSearch, 40, 100, 200, 300, 400])]) {
    const perQuery: number[] = [];
    let totalMs = 0;
    for (const [index, vector] of vectors.entries()) {
      const started = performance.now();
      const indexed = await indexedVectorSearch(database.sql, vector, topK, efSearch);
      totalMs += performance.now() - started;
      const found = indexed.filter((hit) => exact[index]!.has(String(hit.id))).length;
      perQuery.push(found / Math.min(topK, exact[index]!.size));
    }
    byEfSearch.push({ efSearch, recall: perQuery.reduce((sum, value) => sum + value, 0) / perQuery.length, minimum: Math.min(...perQuery), meanMs: totalMs / vectors.length });
  }
  return { queries: vectors.length, byEfSearch, indexedPlan, exactPlan };
}
