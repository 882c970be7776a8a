/**
 * Word segmentation shared by indexing, full-text queries and the refusal decision.
 * `Intl.Segmenter` (ICU) splits Chinese into dictionary words, which PostgreSQL's text-search
 * parsers cannot do: they see a run of Han characters as one token.
 */

// Words that carry no topic; without them "how do I …" would match every document.
const STOPWORDS = new Set(
  (
    'a an the and or but not no of to in on at by for from with without into onto over under about as is are was were be been being ' +
    'do does did done doing have has had can could should would will shall may might must i me my we our you your it its this that these those ' +
    'there here what which who whom whose why how when where than then so if else also only just very more most much many some any each every ' +
    'get set use used using make like way one two all other such same own between before after while them they their he she his her ' +
    '的 了 是 吗 呢 吧 啊 在 和 与 或 及 把 被 对 从 以 为 就 都 也 还 又 要 会 能 可 可以 一个 这个 那个 什么 如何 怎么 怎样 怎么样 哪些 哪个 为什么 多少 几个 时 时候 有 没有 使用 用 中 上 下'
  ).split(' '),
);

const HAN = /\p{Script=Han}/u;

let segmenter: Intl.Segmenter | undefined;
function wordSegmenter(): Intl.Segmenter {
  // One instance: constructing a segmenter loads ICU's dictionaries.
  segmenter ??= new Intl.Segmenter('zh', { granularity: 'word' });
  return segmenter;
}

/**
 * The text PostgreSQL indexes for a chunk: the content unchanged, except that every Chinese
 * word is set off by spaces so the parser sees one token per word. Latin text keeps its
 * punctuation, so identifiers such as `hnsw.ef_search` or `--max-old-space-size` are parsed
 * the same way as in a query.
 */
export function toSearchText(content: string): string {
  if (!HAN.test(content)) return content;
  let output = '';
  for (const { segment } of wordSegmenter().segment(content)) {
    output += HAN.test(segment) ? ` ${segment} ` : segment;
  }
  return output;
}

/** The question's content words: word segments, lower-cased, stopwords dropped, in order, unique. */
export function contentTerms(text: string): string[] {
  const terms = new Set<string>();
  for (const { segment, isWordLike } of wordSegmenter().segment(text.toLowerCase())) {
    if (!isWordLike) continue;
    const term = segment.replace(/^[._:'-]+|[._:'-]+$/g, '');
    // A lone Latin letter or Han character is too common to say anything about the topic.
    if (term.length === 0 || STOPWORDS.has(term) || /^[a-z\p{Script=Han}]$/u.test(term)) continue;
    terms.add(term);
  }
  return [...terms];
}

// Bounds the query PostgreSQL has to evaluate, whatever a client sends.
const MAX_QUERY_TERMS = 32;
const MAX_TERM_LENGTH = 64;

/**
 * The query's content terms as `to_tsquery` sources, one per term (`'term'`), at most 32.
 * Every term is quoted, so tsquery operators in user text (`&`, `!`, `:*`, parentheses) are
 * only text; empty when the query has no content terms (text search then matches nothing).
 */
export function toTsqueryTerms(query: string): string[] {
  return contentTerms(query)
    .slice(0, MAX_QUERY_TERMS)
    .map((term) => `'${term.slice(0, MAX_TERM_LENGTH).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`);
}
