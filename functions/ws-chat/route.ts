import { createRoute } from '@hono/zod-openapi';
import { ErrorResponseSchema } from '../../lib/http/error-response.ts';
import { WS_CHAT_PROTOCOL } from './protocol.ts';

const errorContent = { 'application/json': { schema: ErrorResponseSchema } };

/** `GET /ws/llm`: the contract as the OpenAPI document shows it (the frames are in the description). */
export const wsChatRoute = createRoute({
  method: 'get',
  path: '/ws/llm',
  operationId: 'chatWebSocket',
  security: [],
  tags: ['chat'],
  summary: 'Streamed RAG chat over a WebSocket',
  description: WS_CHAT_PROTOCOL,
  responses: {
    101: { description: 'Switching Protocols: the WebSocket is open; frames as described above.' },
    403: { description: 'The Origin header is not in ALLOWED_ORIGINS.', content: errorContent },
    426: { description: 'Not a WebSocket upgrade request.', content: errorContent },
  },
});
