import type { Source } from './protocol.ts';

export type TurnState = 'streaming' | 'stopping' | 'done' | 'stopped' | 'interrupted' | 'error' | 'insufficient';

/** Builds an element; children are text (never parsed as HTML) or elements. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function sourceItem(source: Source): HTMLLIElement {
  const score = Number.isFinite(source.score) ? element('span', { class: 'score', title: 'cosine similarity' }, `score ${source.score.toFixed(2)}`) : '';
  const summary = element('summary', {}, element('span', { class: 'source-label' }, `[${source.n}] ${source.source} #${source.chunk_index}`), ' ', score);
  return element('li', { class: 'source', 'data-n': String(source.n) }, element('details', {}, summary, element('blockquote', { class: 'excerpt' }, source.content)));
}

/** One question and its answer, as it streams and after it ends. */
export class TurnView {
  readonly root: HTMLElement;
  readonly question: string;
  readonly #answer: HTMLElement;
  readonly #answerText: HTMLElement;
  readonly #sources: HTMLElement;
  #notice: HTMLElement | undefined;

  constructor(question: string) {
    this.question = question;
    this.#answerText = element('div', { class: 'answer-text' });
    // aria-busy holds screen-reader announcements until the answer is complete, instead of one per token.
    this.#answer = element('div', { class: 'answer', 'aria-live': 'polite', 'aria-busy': 'true', 'aria-label': 'Answer' }, this.#answerText);
    this.#sources = element('section', { class: 'sources', hidden: '' });
    this.root = element(
      'article',
      { class: 'turn', 'data-state': 'streaming' },
      element('p', { class: 'question' }, element('span', { class: 'visually-hidden' }, 'You asked: '), question),
      this.#answer,
      this.#sources,
    );
  }

  get state(): TurnState {
    return this.root.dataset.state as TurnState;
  }

  /** The answer text received so far. */
  get answer(): string {
    return this.#answerText.textContent ?? '';
  }

  appendToken(content: string): void {
    this.clearNotice();
    // One text node per token: appending never re-lays out what is already there.
    this.#answerText.append(content);
  }

  showSources(sources: Source[]): void {
    this.clearNotice();
    if (sources.length === 0) return;
    const list = element('ol', { class: 'source-list' }, ...sources.map(sourceItem));
    this.#sources.replaceChildren(element('h2', {}, 'Sources'), list);
    this.#sources.hidden = false;
  }

  /** A transient notice (e.g. "model loading") that the next frame replaces. */
  showNotice(message: string): void {
    this.clearNotice();
    this.#notice = element('p', { class: 'notice', role: 'status' }, message);
    this.#answer.prepend(this.#notice);
  }

  clearNotice(): void {
    this.#notice?.remove();
    this.#notice = undefined;
  }

  showInsufficient(message: string): void {
    this.clearNotice();
    const block = element(
      'div',
      { class: 'insufficient', role: 'note' },
      element('p', { class: 'insufficient-message', lang: 'zh' }, message),
      element('p', { class: 'insufficient-explanation' }, 'The documents do not contain enough information to answer this question.'),
    );
    this.#answer.append(block);
    this.#setState('insufficient');
  }

  showError(message: string, code: string): void {
    this.clearNotice();
    this.#answer.append(element('p', { class: 'error', role: 'alert', 'data-code': code }, message));
  }

  markStopping(): void {
    this.#setState('stopping');
  }

  /** Ends the turn; `note` says why it ended early. */
  finish(state: Exclude<TurnState, 'streaming' | 'stopping'>, note?: string): void {
    this.clearNotice();
    this.#answerText.normalize();
    if (note) this.#answer.append(element('p', { class: 'turn-note' }, note));
    this.#answer.setAttribute('aria-busy', 'false');
    this.#setState(state);
  }

  #setState(state: TurnState): void {
    this.root.dataset.state = state;
  }
}
