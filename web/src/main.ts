import { forgetKey, refusalReason, rememberKey, socketProtocols, storedKey } from './access-key.ts';
import { ChatConnection } from './chat-connection.ts';
import type { ConnectionState } from './chat-connection.ts';
import { chatFrameWithin, Conversation, MAX_FRAME_BYTES } from './conversation.ts';
import type { ServerFrame } from './protocol.ts';
import { element, TurnView } from './render.ts';
import { webSocketUrl } from './websocket-url.ts';

/** After Stop, how long to wait for the server's `done` before giving the input back anyway. */
const STOP_GRACE_MS = 5_000;

function required<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`chat page markup lacks #${id}`);
  return found as T;
}

const log = required<HTMLElement>('log');
const form = required<HTMLFormElement>('composer');
const input = required<HTMLTextAreaElement>('question');
const sendButton = required<HTMLButtonElement>('send');
const stopButton = required<HTMLButtonElement>('stop');
const connectionLabel = required<HTMLElement>('connection');
const keyForm = required<HTMLFormElement>('key-form');
const keyInput = required<HTMLInputElement>('access-key');
const keyError = required<HTMLElement>('key-error');

const conversation = new Conversation();
let current: TurnView | undefined;
let stopTimer: ReturnType<typeof setTimeout> | undefined;

const socketUrl = webSocketUrl(import.meta.env.VITE_API_URL, window.location);
const connection = new ChatConnection(
  socketUrl,
  {
    onState: showConnectionState,
    onFrame: handleFrame,
    onDrop() {
      if (current) endTurn('interrupted', 'Connection lost — the answer was interrupted.');
    },
    async onRefused() {
      const key = storedKey();
      if ((await refusalReason(socketUrl, key)) !== 'key-needed') return true;
      // A stored key that is refused is dropped, so the next page load asks again.
      if (key !== undefined) forgetKey();
      askForKey(key !== undefined);
      return false;
    },
  },
  { protocols: () => socketProtocols(storedKey()) },
);

/** Shows the key form: the server demands a key (API_KEY / READ_API_KEY) the tab does not have. */
function askForKey(previousRefused: boolean): void {
  showConnectionState('key-needed');
  keyForm.hidden = false;
  keyError.hidden = !previousRefused;
  keyInput.value = '';
  keyInput.focus();
}

keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (key === '') return;
  rememberKey(key);
  keyForm.hidden = true;
  keyInput.value = '';
  connection.connect();
});

function showConnectionState(state: ConnectionState, retryInMs?: number): void {
  connectionLabel.dataset.state = state;
  if (state === 'open') connectionLabel.textContent = 'Connected';
  else if (state === 'connecting') connectionLabel.textContent = 'Connecting…';
  else if (state === 'key-needed') connectionLabel.textContent = 'Access key needed';
  else connectionLabel.textContent = retryInMs === undefined ? 'Reconnecting…' : `Reconnecting… (retry in ${Math.ceil(retryInMs / 1000)} s)`;
  updateControls();
}

function updateControls(): void {
  const busy = current !== undefined;
  input.disabled = busy;
  sendButton.disabled = busy || !connection.isOpen;
  stopButton.hidden = !busy;
  stopButton.disabled = current?.state === 'stopping';
  stopButton.textContent = current?.state === 'stopping' ? 'Stopping…' : 'Stop';
  form.setAttribute('aria-busy', String(busy));
}

/** Keeps the newest text in view unless the reader has scrolled up to read something else. */
function followOutput(wasAtBottom: boolean): void {
  if (wasAtBottom) window.scrollTo({ top: document.documentElement.scrollHeight });
}

function isAtBottom(): boolean {
  return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 40;
}

function endTurn(state: Parameters<TurnView['finish']>[0], note?: string): void {
  if (!current) return;
  clearTimeout(stopTimer);
  current.finish(state, note);
  if (state === 'done') conversation.addExchange(current.question, current.answer);
  current = undefined;
  updateControls();
  input.focus();
}

function handleFrame(frame: ServerFrame): void {
  const atBottom = isAtBottom();
  if (!current) {
    // Between answers only errors and notices matter (e.g. a refused frame); late tokens of a stopped answer are dropped.
    if (frame.type === 'error') log.append(element('p', { class: 'error', role: 'alert', 'data-code': frame.code }, frame.message));
    if (frame.type === 'status') showTransientNotice(frame.message);
    followOutput(atBottom);
    return;
  }
  switch (frame.type) {
    case 'sources':
      current.showSources(frame.sources);
      break;
    case 'token':
      current.appendToken(frame.content);
      break;
    case 'status':
      // Today the only status is "model loading"; a newer server may send others, shown as they come.
      current.showNotice(frame.message === 'model loading' ? 'The model is loading; the answer will start shortly…' : String((frame as { message: unknown }).message));
      break;
    case 'insufficient':
      current.showInsufficient(frame.message);
      break;
    case 'error':
      current.showError(frame.message, frame.code);
      endTurn('error');
      break;
    case 'done':
      if (current.state === 'stopping') endTurn('stopped', 'Stopped.');
      else if (current.state === 'insufficient') endTurn('insufficient');
      else if (frame.finish_reason === 'cancelled') endTurn('stopped', 'Stopped.');
      else if (frame.finish_reason === 'length') endTurn('done', 'The answer reached its length limit.');
      else endTurn('done');
      break;
  }
  followOutput(atBottom);
}

function showTransientNotice(message: string): void {
  const notice = element('p', { class: 'notice', role: 'status' }, message);
  log.append(notice);
  setTimeout(() => notice.remove(), 6_000);
}

function ask(): void {
  const message = input.value.trim();
  if (message === '' || current || !connection.isOpen) return;
  const frame = chatFrameWithin(message, conversation.history());
  if (!frame) {
    // Kept in the input so it can be shortened; the server would close the socket on a frame this big.
    showTransientNotice(`That question is too long to send (over ${MAX_FRAME_BYTES / 1024} KiB); please shorten it.`);
    return;
  }
  if (!connection.send(frame)) return;
  log.querySelector('.empty')?.remove();
  current = new TurnView(message);
  log.append(current.root);
  input.value = '';
  updateControls();
  followOutput(true);
}

function stop(): void {
  if (!current || current.state !== 'streaming') return;
  connection.send({ type: 'cancel' });
  current.markStopping();
  updateControls();
  // The server answers a cancel with `done`; if that never comes, do not keep the page locked.
  stopTimer = setTimeout(() => endTurn('stopped', 'Stopped.'), STOP_GRACE_MS);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  ask();
});

input.addEventListener('keydown', (event) => {
  // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition (Chinese, Japanese…) is not a send.
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ask();
  }
});

stopButton.addEventListener('click', stop);
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') stop();
});

updateControls();
connection.connect();
input.focus();
