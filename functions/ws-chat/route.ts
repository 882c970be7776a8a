import { createRoute } from '@hono/zod-openapi';
import { ErrorResponseSchema } from '../../lib/http/error-response.ts';
import { WS_CHAT_PROTOCOL } from './protocol.ts';

const errorContent = { 'application/json': { schema: ErrorResponseSchema } };

/** `GET /ws/llm`: the contract as the OpenAPI document shows it (the frames are in the description). */
export const wsChatRoute = createRoute({
  method: 'get',
  path: '/ws/llm',
  operationId: 'chatWebSocket',
  security: [{ bearer: [] }, { websocketSubprotocol: [] }],
  tags: ['chat'],
  summary: 'Streamed RAG chat over a WebSocket',
  description: WS_CHAT_PROTOCOL,
  responses: {
    101: { description: 'Switching Protocols: the WebSocket is open; frames as described above.' },
    401: { description: 'Missing or wrong key (when API_KEY is set).', content: errorContent },
    403: { description: 'A browser page of another origin, not in ALLOWED_ORIGINS.', content: errorContent },
    421: { description: 'The Host header is not in ALLOWED_HOSTS.', content: errorContent },
    426: { description: 'Not a WebSocket upgrade request.', content: errorContent },
    429: { description: 'Too many connections from this client; retry after Retry-After.', content: errorContent },
    503: { description: 'WS_MAX_CONNECTIONS sockets are open; retry after Retry-After.', content: errorContent },
  },
});
