// Drives /ws/llm of a running service (the Deno smoke test's): a related question must
// stream sources, tokens and done; an unrelated one must get 资料不足 and done. Exit 1 on failure.
import { connectChatSocket } from '../../scripts/eval/chat-socket-client.ts';

const [base, related, unrelated] = process.argv.slice(2);
if (!base || !related || !unrelated) {
  console.error('usage: tsx tests/deno/ws-chat-check.ts <ws://host:port/ws/llm> <related question> <unrelated question>');
  process.exit(2);
}
// CHAT_KEY: the service's API_KEY or READ_API_KEY, sent as Authorization on the upgrade.
const key = process.env.CHAT_KEY;
const socket = await connectChatSocket(base, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
try {
  const answer = await socket.ask({ type: 'chat', message: related }, 60_000);
  const types = answer.map((frame) => frame.type);
  if (types[0] !== 'sources' || !types.includes('token') || types.at(-1) !== 'done') throw new Error(`related question: unexpected frames ${JSON.stringify(types)}`);
  const refusal = await socket.ask({ type: 'chat', message: unrelated }, 60_000);
  const insufficient = refusal.find((frame) => frame.type === 'insufficient');
  if (!insufficient || insufficient.type !== 'insufficient' || insufficient.message !== '资料不足' || refusal.at(-1)?.type !== 'done') {
    throw new Error(`unrelated question: expected 资料不足, got ${JSON.stringify(refusal.map((frame) => frame.type))}`);
  }
  console.log(`ws-chat on Deno: ${types.filter((type) => type === 'token').length} tokens streamed with sources; 资料不足 (${insufficient.reason}) for the unrelated question`);
} finally {
  await socket.close();
}
