// Chat benchmark (issue 5): time to first token and tokens/s through /ws/llm against streaming
// the same prompt straight from the same llama-server, interleaved; retrieval p50 on its own;
// the insufficient-context path; 20 concurrent sockets. See bench/results/chat.md.
//
//   npx tsx bench/chat.ts [--rounds 15] [--overflow-rounds 8] [--warmup 3] [--insufficient-rounds 20] [--sockets 20] [--concurrency-runs 2]
import os from 'node:os';
import { connectChatSocket } from '../scripts/eval/chat-socket-client.ts';
import { benchConfig, benchModelSetting, commandLine, integerArgument, parseArguments, runRows, writeResults } from './support/bench-environment.ts';
import { askConcurrently, askInsufficient, measurePaired, streamDirectConcurrently, timeRetrieval, withLlamaWork, type PairedMeasurement } from './support/chat-measurements.ts';
import { type ConcurrencyRun, RATE_GOAL, renderChatReport, summarize, TTFT_SLACK_MS } from './support/chat-report.ts';
import { CHAT_DOCUMENTS, openChatBench } from './support/chat-setup.ts';
import { fixed, median } from './support/stats.ts';

const LLAMA_PARALLEL = 2;
const LLAMA_CTX_SIZE = 4096;
const MIN_TERM_COVERAGE = 0.5;
const QUESTION = 'How do I detect and close broken connections with ping and pong?';
const UNRELATED_QUESTION = 'Which volcano erupted near the fishing village last winter?';

const argv = process.argv.slice(2);
const parsed = parseArguments(argv);
const rounds = integerArgument(parsed, 'rounds', 15);
const warmup = integerArgument(parsed, 'warmup', 3);
const overflowRounds = integerArgument(parsed, 'overflow-rounds', 8);
const insufficientRounds = integerArgument(parsed, 'insufficient-rounds', 20);
const socketCount = integerArgument(parsed, 'sockets', 20);
const concurrencyRuns = integerArgument(parsed, 'concurrency-runs', 2);
const llmSettings = { LLM_CONTEXT_TOKENS: String(LLAMA_CTX_SIZE / LLAMA_PARALLEL), LLM_MAX_TOKENS: '128', LLM_TEMPERATURE: '0' };
const config = benchConfig(llmSettings);

const loadBefore = os.loadavg();
const started = performance.now();
const bench = await openChatBench(config, { parallel: LLAMA_PARALLEL, ctxSize: LLAMA_CTX_SIZE, minTermCoverage: MIN_TERM_COVERAGE });
console.error(`llama-server, PGlite and ${bench.chunkCount} chunks ready in ${fixed((performance.now() - started) / 1000, 1)} s`);
const socket = await connectChatSocket(bench.url);
try {
  // The service default top_k, then one chunk more: with the fixture's 512-token vocabulary that
  // prompt overflows the slot and ws-chat drops chunks, paying for more counting requests.
  const defaultTopK = config.retrieval.topK;
  const variants: PairedMeasurement[] = [];
  for (const [topK, count] of [[defaultTopK, rounds], [defaultTopK + 1, overflowRounds]] as const) {
    variants.push(await measurePaired(bench, socket, QUESTION, { topK, rounds: count, warmup }));
    console.error(`top_k ${topK}: ${count} rounds done (${fixed((performance.now() - started) / 1000, 0)} s)`);
  }

  const insufficient: number[] = [];
  const insufficientRetrievals: number[] = [];
  let insufficientReason = '';
  for (let round = 0; round < insufficientRounds + 2; round++) {
    const result = await askInsufficient(bench, socket, UNRELATED_QUESTION);
    const retrievalMs = await timeRetrieval(bench, UNRELATED_QUESTION);
    insufficientReason = result.reason;
    if (round < 2) continue; // warm-up
    insufficient.push(result.latencyMs);
    insufficientRetrievals.push(retrievalMs);
  }

  // Interleaved with the same burst of direct streams (order alternating), which shows what
  // llama-server alone takes. First one stream per slot, so every slot holds the prompt in its
  // cache; otherwise whichever burst came first would pay for evaluating it on the idle slot.
  const concurrency: ConcurrencyRun[] = [];
  const directConcurrency: ConcurrencyRun[] = [];
  const [main] = variants;
  await streamDirectConcurrently(bench, LLAMA_PARALLEL, main!.messages, main!.settings);
  for (let run = 0; run < concurrencyRuns; run++) {
    const runWs = async () => void concurrency.push(await withLlamaWork(bench, () => askConcurrently(bench, socketCount, QUESTION)));
    const runDirect = async () => void directConcurrency.push(await withLlamaWork(bench, () => streamDirectConcurrently(bench, socketCount, main!.messages, main!.settings)));
    if (run % 2 === 0) await runWs().then(runDirect);
    else await runDirect().then(runWs);
    console.error(`concurrency run ${run + 1}: ws ${fixed(concurrency.at(-1)!.wallMs, 0)} ms, direct ${fixed(directConcurrency.at(-1)!.wallMs, 0)} ms`);
  }
  const loadAfter = os.loadavg();

  const summaries = variants.map(summarize);
  const seconds = (performance.now() - started) / 1000;
  for (const summary of summaries) {
    console.error(
      `top_k ${summary.variant.topK} (${summary.variant.sourceCount} chunks in the prompt, ${summary.countCalls} count call(s)): ` +
        `TTFT ws ${fixed(summary.wsTtft, 1)} ms vs direct ${fixed(summary.directTtft, 1)} ms: overhead ${fixed(summary.overhead, 1)} ms ` +
        `(goal ≤ retrieval p50 ${fixed(summary.retrievalP50, 1)} + ${TTFT_SLACK_MS} = ${fixed(summary.ttftBudget, 1)} ms: ${summary.ttftMet ? 'met' : 'NOT met'}); ` +
        `tokens/s ws ${fixed(summary.wsRate, 0)} vs direct ${fixed(summary.directRate, 0)}: ratio ${fixed(summary.rateRatio, 3)} (goal ≥ ${RATE_GOAL}: ${summary.rateMet ? 'met' : 'NOT met'})`,
    );
  }
  console.error(`insufficient path p50 ${fixed(median(insufficient), 1)} ms; ${socketCount} sockets: wall ${concurrency.map((run) => fixed(run.wallMs, 0)).join('/')} ms (${seconds.toFixed(0)} s total)`);
  const markdown = renderChatReport({
    variants: summaries, insufficient, insufficientRetrievals, insufficientReason, insufficientRounds, concurrency, directConcurrency, socketCount,
    setup: [
      ...runRows(),
      ['load average (1/5/15 min)', `before ${loadBefore.map((value) => fixed(value, 2)).join(' / ')}, after ${loadAfter.map((value) => fixed(value, 2)).join(' / ')} (other engineers' test runs share the 2 cores)`],
      ['chat model', `../shared/fixtures/models/stories260K.gguf via llama-server (\`--parallel ${LLAMA_PARALLEL} --ctx-size ${LLAMA_CTX_SIZE} --threads ${process.env.LLAMA_THREADS ?? '1'} --chat-template chatml\`), LLM_CONTEXT_TOKENS ${config.llm.contextTokens}, max_tokens ${config.llm.maxTokens}, temperature ${config.llm.temperature}, LLM_TIMEOUT_MS ${config.llm.timeoutMs}`],
      ['embedding model', benchModelSetting()],
      ['knowledge base', `${bench.knowledge.databaseDescription}; ${CHAT_DOCUMENTS.length} documents (${CHAT_DOCUMENTS.map((file) => file.split('/').at(-1)).join(', ')}), ${bench.chunkCount} chunks; hybrid search`],
      ['question', `"${QUESTION}"`],
      ['rounds', `per top_k: ${warmup + 1} warm-up, then ${rounds} (top_k ${defaultTopK}) / ${overflowRounds} (top_k ${defaultTopK + 1}) interleaved, order alternating; ${seconds.toFixed(0)} s in all`],
      ['command', `\`${commandLine('bench/chat.ts', argv)}\``],
    ],
    minTermCoverage: MIN_TERM_COVERAGE,
    unrelatedQuestion: UNRELATED_QUESTION,
    parallel: LLAMA_PARALLEL,
    slotTokens: config.llm.contextTokens ?? LLAMA_CTX_SIZE / LLAMA_PARALLEL,
  });
  console.log(markdown);
  console.error(`written to ${await writeResults('chat', 'embedded', 'Chat: /ws/llm against llama-server direct', markdown)}`);
} finally {
  await socket.close();
  await bench.close();
}
