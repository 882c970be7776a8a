import type { CalibrationProposal } from './calibrate.ts';
import { CUTOFFS } from './metrics.ts';
import type { EvaluationReport, ModeReport } from './run-eval.ts';

const ratio = (value: number | null) => (value === null ? 'n/a' : value.toFixed(3));

/** The report as plain-text tables: modes × metrics, per-language evidence@3, misses, HNSW recall. */
export function formatReport(report: EvaluationReport): string {
  const lines: string[] = [];
  lines.push(`set ${report.set}: ${report.documents} documents, ${report.chunks} chunks; model ${report.model}; top_k ${report.topK}; refusal decided on the top ${report.decisionTopK}`);
  lines.push(`thresholds ${JSON.stringify(report.thresholds)}`);
  lines.push('');
  const header = ['mode', ...CUTOFFS.map((k) => `src@${k}`), ...CUTOFFS.map((k) => `ev@${k}`), 'MRR', 'refuse P', 'refuse R', 'false ref'];
  const rows = report.modes.map((mode) => [
    mode.mode,
    ...CUTOFFS.map((k) => ratio(mode.retrieval.sourceAt[k])),
    ...CUTOFFS.map((k) => ratio(mode.retrieval.evidenceAt[k])),
    ratio(mode.retrieval.mrr),
    ratio(mode.refusal.precision),
    ratio(mode.refusal.recall),
    `${mode.refusal.falseRefusals}/${mode.refusal.answerable}`,
  ]);
  lines.push(...table(header, rows));
  lines.push('');
  const languages = [...new Set(report.modes.flatMap((mode) => Object.keys(mode.byLanguage)))];
  lines.push(...table(['ev@3 by language', ...languages.map((language) => `${language} (n=${report.modes[0]?.byLanguage[language]?.questions ?? 0})`)], report.modes.map((mode) => [mode.mode, ...languages.map((language) => ratio(mode.byLanguage[language]?.evidenceAt[3] ?? null))])));
  lines.push('');
  lines.push(`HNSW recall@10 against an exact scan: ${report.hnsw ? `${ratio(report.hnsw.recallAt10)} over ${report.hnsw.queries} queries` : 'not measured (no exact reference)'}`);
  for (const mode of report.modes) lines.push(describeMisses(mode));
  for (const mode of report.modes) lines.push(describeFollowUps(mode));
  lines.push(`ingest ${report.timings.ingestMs} ms, searches ${report.timings.searchMs} ms`);
  for (const mode of report.modes) if (mode.calibration) lines.push('', formatCalibration(mode.mode, mode.calibration));
  return lines.join('\n');
}

/** The proposed thresholds of one mode with the figures behind each. */
export function formatCalibration(mode: string, proposal: CalibrationProposal): string {
  const lines = [`calibration (${mode}): refuses ${proposal.correctRefusals}/${proposal.unanswerable} unanswerable, ${proposal.falseRefusals.length}/${proposal.answerable} answerable`];
  lines.push(
    ...table(
      ['threshold', 'value', 'refuses alone', 'lowest answerable', 'candidates'],
      proposal.figures.map((figure) => [figure.name, String(figure.value), String(figure.refuses), figure.lowestAnswerable === null ? 'n/a' : figure.lowestAnswerable.toFixed(4), String(figure.candidatesTried)]),
    ),
  );
  lines.push(`  proposed: ${JSON.stringify(proposal.thresholds)}`);
  if (proposal.stillAnswered.length) lines.push(`  not refusable without a false refusal: ${proposal.stillAnswered.join(', ')}`);
  if (proposal.falseRefusals.length) lines.push(`  refused although answerable (no results): ${proposal.falseRefusals.join(', ')}`);
  return lines.join('\n');
}

function describeMisses(mode: ModeReport): string {
  const missed = mode.questions.filter((question) => question.answerable && (question.evidenceRank === null || question.evidenceRank > 3)).map((question) => question.id);
  const falseRefusals = mode.questions.filter((question) => question.answerable && question.refused).map((question) => question.id);
  const answeredUnanswerable = mode.questions.filter((question) => !question.answerable && !question.refused).map((question) => question.id);
  return [
    `${mode.mode}: evidence not in top 3 (${missed.length}): ${missed.join(', ') || '-'}`,
    `${mode.mode}: refused although answerable (${falseRefusals.length}): ${falseRefusals.join(', ') || '-'}`,
    `${mode.mode}: answered although unanswerable (${answeredUnanswerable.length}): ${answeredUnanswerable.join(', ') || '-'}`,
  ].join('\n');
}

/** Questions asked after an earlier turn: evidence@3 of the answerable ones, refusals of the others. */
function describeFollowUps(mode: ModeReport): string {
  const followUps = mode.questions.filter((question) => question.followUp);
  const answerable = followUps.filter((question) => question.answerable);
  const found = answerable.filter((question) => question.evidenceRank !== null && question.evidenceRank <= 3 && !question.refused).length;
  const unanswerable = followUps.filter((question) => !question.answerable);
  const refused = unanswerable.filter((question) => question.refused).length;
  return `${mode.mode}: follow-ups: evidence in top 3 and answered ${found}/${answerable.length}, unanswerable refused ${refused}/${unanswerable.length}`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const format = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [format(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(format)];
}
