// Chat benchmark (issue 5): time to first token and tokens/s through /ws/llm against streaming
// the same prompt straight from the same llama-server, interleaved; retrieval p50 on its own;
// the insufficient-context path; 20 concurrent sockets. See bench/results/chat.md.
//
//   npx tsx bench/chat.ts [--rounds 20] [--warmup 3] [--insufficient-rounds 20] [--sockets 20] [--concurrency-runs 3]
import os from 'node:os';
import { connectChatSocket } from '../functions/ws-chat/chat-socket-client.ts';
import { benchConfig, benchModelSetting, commandLine, integerArgument, machineDescription, parseArguments, writeResults } from './support/bench-environment.ts';
import {
  askConcurrently,
  askInsufficient,
  askThroughSocket,
  directStreamer,
  timePromptCount,
  timeRetrieval,
  type StreamTiming,
  type TtftStages,
} from './support/chat-measurements.ts';
import { CHAT_DOCUMENTS, openChatBench } from './support/chat-setup.ts';
import { fixed, markdownTable, median, percentile } from './support/stats.ts';

const TTFT_SLACK_MS = 15;
const RATE_GOAL = 0.95;
const LLAMA_PARALLEL = 2;
const LLAMA_CTX_SIZE = 4096;
const MIN_TERM_COVERAGE = 0.5;
const QUESTION = 'How do I detect and close broken connections with ping and pong?';
const UNRELATED_QUESTION = 'Which volcano erupted near the fishing village last winter?';

const argv = process.argv.slice(2);
const parsed = parseArguments(argv);
const rounds = integerArgument(parsed, 'rounds', 20);
const warmup = integerArgument(parsed, 'warmup', 3);
const insufficientRounds = integerArgument(parsed, 'insufficient-rounds', 20);
const socketCount = integerArgument(parsed, 'sockets', 20);
const concurrencyRuns = integerArgument(parsed, 'concurrency-runs', 3);
const llmSettings = { LLM_CONTEXT_TOKENS: String(LLAMA_CTX_SIZE / LLAMA_PARALLEL), LLM_MAX_TOKENS: '256', LLM_TEMPERATURE: '0', LLM_TIMEOUT_MS: '30000' };
const config = benchConfig(llmSettings);

const loadBefore = os.loadavg();
const started = performance.now();
const bench = await openChatBench(config, { parallel: LLAMA_PARALLEL, ctxSize: LLAMA_CTX_SIZE, minTermCoverage: MIN_TERM_COVERAGE });
const socket = await connectChatSocket(bench.url);
try {
  const direct = directStreamer(bench);
  // Warm-up: loads both paths, fills llama-server's prompt cache alike and yields the exact prompt.
  let captured = await askThroughSocket(bench, socket, QUESTION);
  const messages = captured.probe.messages!;
  const settings = { maxTokens: captured.probe.streamOptions!.maxTokens!, temperature: captured.probe.streamOptions!.temperature ?? config.llm.temperature };
  for (let index = 0; index < warmup; index++) {
    captured = await askThroughSocket(bench, socket, QUESTION);
    await direct(messages, settings);
    await timeRetrieval(bench, QUESTION);
  }

  const ws: StreamTiming[] = [];
  const straight: StreamTiming[] = [];
  const stages: TtftStages[] = [];
  const retrievals: number[] = [];
  const promptCounts: number[] = [];
  let samePrompt = true;
  for (let round = 0; round < rounds; round++) {
    // Alternate which path goes first, so neither always meets a server that just finished.
    const runWs = async () => {
      const answer = await askThroughSocket(bench, socket, QUESTION);
      ws.push(answer.timing);
      stages.push(answer.stages);
      samePrompt &&= JSON.stringify(answer.probe.messages) === JSON.stringify(messages);
    };
    const runDirect = async () => straight.push(await direct(messages, settings));
    if (round % 2 === 0) await runWs().then(runDirect);
    else await runDirect().then(runWs);
    retrievals.push(await timeRetrieval(bench, QUESTION));
    promptCounts.push(await timePromptCount(bench, messages));
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

  await askConcurrently(bench, socketCount, QUESTION); // warm-up
  const concurrency: Array<Awaited<ReturnType<typeof askConcurrently>>> = [];
  for (let run = 0; run < concurrencyRuns; run++) concurrency.push(await askConcurrently(bench, socketCount, QUESTION));
  const loadAfter = os.loadavg();

  const summary = summarize();
  const seconds = (performance.now() - started) / 1000;
  console.error(
    `TTFT ws ${fixed(summary.wsTtft, 1)} ms vs direct ${fixed(summary.directTtft, 1)} ms: overhead ${fixed(summary.overhead, 1)} ms ` +
      `(goal ≤ retrieval p50 ${fixed(summary.retrievalP50, 1)} + ${TTFT_SLACK_MS} = ${fixed(summary.ttftBudget, 1)} ms: ${summary.ttftMet ? 'met' : 'NOT met'})`,
  );
  console.error(`tokens/s ws ${fixed(summary.wsRate, 0)} vs direct ${fixed(summary.directRate, 0)}: ratio ${fixed(summary.rateRatio, 3)} (goal ≥ ${RATE_GOAL}: ${summary.rateMet ? 'met' : 'NOT met'})`);
  console.error(`insufficient path p50 ${fixed(median(insufficient), 1)} ms; ${socketCount} sockets: wall ${concurrency.map((run) => fixed(run.wallMs, 0)).join('/')} ms (${seconds.toFixed(0)} s total)`);
  const markdown = report(summary, seconds);
  console.log(markdown);
  console.error(`written to ${await writeResults('chat', 'embedded', 'Chat: /ws/llm against llama-server direct', markdown)}`);

  function summarize() {
    const wsTtft = median(ws.map((timing) => timing.ttftMs));
    const directTtft = median(straight.map((timing) => timing.ttftMs));
    const retrievalP50 = median(retrievals);
    const wsRate = median(ws.map((timing) => timing.tokensPerSecond));
    const directRate = median(straight.map((timing) => timing.tokensPerSecond));
    const overhead = wsTtft - directTtft;
    const pairedOverhead = median(ws.map((timing, index) => timing.ttftMs - straight[index]!.ttftMs));
    const pairedRatio = median(ws.map((timing, index) => timing.tokensPerSecond / straight[index]!.tokensPerSecond));
    const ttftBudget = retrievalP50 + TTFT_SLACK_MS;
    const rateRatio = wsRate / directRate;
    return { wsTtft, directTtft, retrievalP50, wsRate, directRate, overhead, pairedOverhead, pairedRatio, ttftBudget, rateRatio, ttftMet: overhead <= ttftBudget, rateMet: rateRatio >= RATE_GOAL };
  }

  function report(summary: ReturnType<typeof summarize>, totalSeconds: number): string {
    const stage = (pick: (value: TtftStages) => number) => fixed(median(stages.map(pick)), 1);
    const tokens = (timings: StreamTiming[]) => `${median(timings.map((timing) => timing.tokens))} (${[...new Set(timings.map((timing) => timing.finishReason))].join(', ')})`;
    const overBudget = summary.overhead - summary.ttftBudget;
    const lines = [
      '## Embedded PGlite + stories260K',
      '',
      markdownTable(['', ''], [
        ['date', new Date().toISOString()],
        ['machine', machineDescription()],
        ['load average (1/5/15 min)', `before ${loadBefore.map((value) => fixed(value, 2)).join(' / ')}, after ${loadAfter.map((value) => fixed(value, 2)).join(' / ')} (other engineers' test runs share the 2 cores)`],
        ['chat model', `../shared/fixtures/models/stories260K.gguf via llama-server (\`--parallel ${LLAMA_PARALLEL} --ctx-size ${LLAMA_CTX_SIZE} --threads ${process.env.LLAMA_THREADS ?? '1'} --chat-template chatml\`), max_tokens ${settings.maxTokens}, temperature ${settings.temperature}`],
        ['embedding model', benchModelSetting()],
        ['knowledge base', `${bench.knowledge.databaseDescription}; ${CHAT_DOCUMENTS.length} documents (${CHAT_DOCUMENTS.map((file) => file.split('/').at(-1)).join(', ')}), ${bench.chunkCount} chunks; hybrid search, top_k ${config.retrieval.topK}`],
        ['prompt', `${messages.length} messages, ${messages.reduce((sum, message) => sum + message.content.length, 0)} characters; the same prompt every round: ${samePrompt ? 'yes' : 'NO'}`],
        ['rounds', `${warmup + 1} warm-up, then ${rounds} interleaved (order alternating); ${totalSeconds.toFixed(0)} s in all`],
        ['command', `\`${commandLine('bench/chat.ts', argv)}\``],
      ]),
      '',
      `ws = chat frame sent → first \`token\` frame received on a \`ws\` client; direct = the messages ws-chat built (captured from its chat model) streamed from the same llama-server with the \`openai\` client, same \`max_tokens\`, \`temperature\` and \`stream_options\`; tokens/s = (tokens − 1) ÷ (last − first token arrival). Retrieval = the \`searchSimilarChunks\` call ws-chat makes (embed + hybrid SQL), timed alone after each pair.`,
      '',
      markdownTable(['measure (median)', 'ws', 'direct', 'result', 'goal'], [
        ['time to first token', `${fixed(summary.wsTtft, 1)} ms`, `${fixed(summary.directTtft, 1)} ms`, `overhead ${fixed(summary.overhead, 1)} ms (paired ${fixed(summary.pairedOverhead, 1)} ms)`, `≤ retrieval p50 ${fixed(summary.retrievalP50, 1)} + ${TTFT_SLACK_MS} = ${fixed(summary.ttftBudget, 1)} ms: **${summary.ttftMet ? 'met' : 'not met'}**`],
        ['tokens/s', fixed(summary.wsRate, 0), fixed(summary.directRate, 0), `ratio ${fixed(summary.rateRatio, 3)} (paired ${fixed(summary.pairedRatio, 3)})`, `≥ ${RATE_GOAL}: **${summary.rateMet ? 'met' : 'not met'}**`],
        ['tokens per answer (finish)', tokens(ws), tokens(straight), '', ''],
        ['retrieval alone', `p50 ${fixed(summary.retrievalP50, 1)} ms, p95 ${fixed(percentile(retrievals, 95), 1)} ms`, '', '', ''],
      ]),
      '',
      '### Where the ws time to first token goes',
      '',
      'Timestamps taken inside the app (the retrieval and the chat model wrapped; the token path is not), median per stage over the rounds.',
      '',
      markdownTable(['stage', 'ms'], [
        ['frame sent → retrieval starts (ws, JSON, zod, dispatch)', stage((value) => value.dispatchMs)],
        ['retrieval (in the app)', stage((value) => value.retrievalMs)],
        [`prompt token count (${median(stages.map((value) => value.countCalls))} call(s): \`/apply-template\` + \`/tokenize\`)`, stage((value) => value.countingMs)],
        ['sufficiency, prompt assembly, `sources` frame', stage((value) => value.promptOtherMs)],
        ['`stream()` called → first token frame received', stage((value) => value.streamToFirstTokenMs)],
        ['direct TTFT, for comparison', fixed(summary.directTtft, 1)],
        ['prompt count timed alone (same messages)', `p50 ${fixed(median(promptCounts), 1)}, p95 ${fixed(percentile(promptCounts, 95), 1)}`],
      ]),
      '',
      finding(summary, overBudget, stage),
      '',
      '### Insufficient context (no model call)',
      '',
      `"${UNRELATED_QUESTION}" → \`insufficient\` (reason \`${insufficientReason}\`) + \`done\`, chat frame sent → \`done\` received, ${insufficientRounds} rounds after 2 warm-up: ` +
        `**p50 ${fixed(median(insufficient), 1)} ms**, p95 ${fixed(percentile(insufficient, 95), 1)} ms; its retrieval alone p50 ${fixed(median(insufficientRetrievals), 1)} ms. ` +
        `Thresholds: the fixture's calibrated ones (they never refuse a non-empty result) with \`minTermCoverage\` ${MIN_TERM_COVERAGE}, which the answered question clears.`,
      '',
      `### ${socketCount} concurrent sockets`,
      '',
      `Each of ${socketCount} sockets sends the chat frame at once; llama-server has ${LLAMA_PARALLEL} slots. One warm-up run, then:`,
      '',
      markdownTable(['run', 'wall ms', 'answered', 'TTFT p50 ms', 'TTFT p95 ms', 'TTFT max ms'], concurrency.map((run, index) => [index + 1, fixed(run.wallMs, 0), `${run.answered}/${socketCount}`, fixed(run.ttftP50, 0), fixed(run.ttftP95, 0), fixed(run.ttftMax, 0)])),
      '',
      '### Per round',
      '',
      markdownTable(['round', 'ws TTFT ms', 'direct TTFT ms', 'retrieval ms', 'count ms', 'ws tok/s', 'direct tok/s'], ws.map((timing, index) => [
        index + 1, fixed(timing.ttftMs, 1), fixed(straight[index]!.ttftMs, 1), fixed(retrievals[index]!, 1), fixed(stages[index]!.countingMs, 1), fixed(timing.tokensPerSecond, 0), fixed(straight[index]!.tokensPerSecond, 0),
      ])),
    ];
    return lines.join('\n');
  }

  function finding(summary: ReturnType<typeof summarize>, overBudget: number, stage: (pick: (value: TtftStages) => number) => string): string {
    const notes: string[] = [];
    if (!summary.ttftMet) {
      notes.push(
        `**TTFT goal missed by ${fixed(overBudget, 1)} ms.** Besides retrieval, the largest pre-stream cost is the prompt token count: ${stage((value) => value.countingMs)} ms of HTTP round trips to llama-server ` +
          `(\`/apply-template\` then \`/tokenize\`, one after the other) before the completion request is even sent, against a ${TTFT_SLACK_MS} ms allowance.`,
      );
    } else {
      notes.push(`TTFT goal met with ${fixed(-overBudget, 1)} ms to spare; the prompt count costs ${stage((value) => value.countingMs)} ms of it.`);
    }
    if (!summary.rateMet) notes.push(`**tokens/s goal missed** (ratio ${fixed(summary.rateRatio, 3)}): each token is a JSON frame through the app and \`ws\` on the same 2 cores as llama-server and both clients.`);
    return notes.join('\n\n');
  }
} finally {
  await socket.close();
  await bench.close();
}
