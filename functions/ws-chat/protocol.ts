import { z } from 'zod';
import { InsufficientReasonSchema, SufficiencySignalsSchema } from '../../lib/knowledge/sufficiency.ts';

/** The frames of `GET /ws/llm`: the single source of the protocol's types and docs. */

export const MAX_CLIENT_TOP_K = 20;
export const MAX_HISTORY_ITEMS = 100;

export const historyMessageSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string().max(100_000),
});

/** Client → server: ask a question. A plain-text (non-JSON) frame means `{type:"chat", message: text}`. */
export const chatFrameSchema = z.object({
  type: z.literal('chat'),
  message: z.string().trim().min(1, 'message must not be empty'),
  history: z.array(historyMessageSchema).max(MAX_HISTORY_ITEMS).optional(),
  top_k: z.number().int().min(1).max(MAX_CLIENT_TOP_K).optional(),
});

/** Client → server: stop the answer in flight (ignored when none is). */
export const cancelFrameSchema = z.object({ type: z.literal('cancel') });

export const clientFrameSchema = z.discriminatedUnion('type', [chatFrameSchema, cancelFrameSchema]);

export const sourceSchema = z.object({
  n: z.number().int().min(1),
  source: z.string(),
  chunk_index: z.number().int().min(0),
  score: z.number(),
  content: z.string(),
});

export const sourcesFrameSchema = z.object({ type: z.literal('sources'), sources: z.array(sourceSchema) });
export const tokenFrameSchema = z.object({ type: z.literal('token'), content: z.string() });
export const usageSchema = z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() });
export const doneFrameSchema = z.object({
  type: z.literal('done'),
  /** The model's (`stop`, `length`), or `cancelled`, `insufficient`, `error`. */
  finish_reason: z.string(),
  usage: usageSchema.optional(),
});
export const insufficientFrameSchema = z.object({
  type: z.literal('insufficient'),
  message: z.literal('资料不足'),
  /** Similarity of the best chunk, `null` when nothing was found. */
  best_score: z.number().nullable(),
  /** Which check refused: see lib/knowledge/sufficiency.ts. */
  reason: InsufficientReasonSchema,
  /** The measurements the decision was made from. */
  signals: SufficiencySignalsSchema.optional(),
});
export const statusFrameSchema = z.object({ type: z.literal('status'), message: z.literal('model loading') });
export const errorFrameSchema = z.object({ type: z.literal('error'), code: z.string(), message: z.string() });

export const serverFrameSchema = z.discriminatedUnion('type', [
  sourcesFrameSchema,
  tokenFrameSchema,
  doneFrameSchema,
  insufficientFrameSchema,
  statusFrameSchema,
  errorFrameSchema,
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type ChatFrame = z.infer<typeof chatFrameSchema>;
export type ServerFrame = z.infer<typeof serverFrameSchema>;

/** The protocol in prose, for the OpenAPI description and the README. */
export const WS_CHAT_PROTOCOL = `WebSocket chat grounded in the knowledge base. Upgrade with \`GET /ws/llm\` (\`Upgrade: websocket\`);
a plain GET gets 426, a browser page of another origin (not in \`ALLOWED_ORIGINS\`) gets 403, a \`Host\` outside
\`ALLOWED_HOSTS\` 421, the upgrade past \`WS_MAX_CONNECTIONS\` 503 and past the client's rate limit 429. When \`API_KEY\` is
set the upgrade needs a key (API_KEY or READ_API_KEY, else 401): \`Authorization: Bearer <key>\`, or — from a browser, which
cannot set headers on a WebSocket — the subprotocols \`local-rag.v1, local-rag.bearer.<base64url(key)>\` (the server answers
\`local-rag.v1\`; the key stays out of URLs and logs). A socket idle for \`WS_IDLE_TIMEOUT_MS\` is closed (1000 \`idle timeout\`)
and one that stops answering pings is dropped. All frames are JSON text.

**Client → server**
- \`{"type":"chat","message":"…","history":[{"role":"user"|"assistant","content":"…"}]?,"top_k":1-${MAX_CLIENT_TOP_K}?}\` asks a question.
  A text frame that is not JSON is taken as the message itself.
- \`{"type":"cancel"}\` stops the answer in flight.

**Server → client**, for each accepted \`chat\`, in this order:
1. \`{"type":"status","message":"model loading"}\` (only while the model is still loading; the answer follows when it is ready);
2. either \`{"type":"sources","sources":[{"n","source","chunk_index","score","content"}]}\` followed by
   \`{"type":"token","content":"…"}\` frames as the model writes, citing sources as \`[n]\`,
   or \`{"type":"insufficient","message":"资料不足","best_score":number|null,"reason":"no_results"|"below_threshold"|"no_text_match"|"low_term_coverage"|"ambiguous","signals":{…}}\`
   when the documents do not cover the question (the model is not called);
3. \`{"type":"error","code","message"}\` if the answer fails (codes: \`llm_unauthorized\`, \`llm_unavailable\`, \`llm_loading\`,
   \`llm_timeout\`, \`llm_error\`, \`llm_context_exceeded\`, \`llm_stream_interrupted\`, \`message_too_long\`, \`retrieval_failed\`,
   \`database_unavailable\`);
4. always last: \`{"type":"done","finish_reason":"stop"|"length"|"cancelled"|"insufficient"|"error","usage"?:{"prompt_tokens","completion_tokens","total_tokens"}}\`.

A frame the server cannot take gets \`{"type":"error"}\` with code \`bad_request\` (malformed JSON, unknown type,
schema violation; the message names the field), \`frame_too_large\` (over \`WS_MAX_FRAME_BYTES\`) or \`busy\`
(a \`chat\` while an answer is in flight: one at a time per socket) or \`rate_limited\` (a question past the client's
rate limit; retry later). These carry no \`done\`, leave any answer in
flight running, and the socket stays open.`;
