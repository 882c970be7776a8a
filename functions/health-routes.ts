import { createRoute, z } from '@hono/zod-openapi';
import { ErrorResponseSchema } from '../lib/http/error-response.ts';

const CheckSchema = z.object({ ok: z.boolean(), detail: z.string().optional() });

/** What the service's readiness check reports; `/readyz` answers 200 with its checks, or 503 with the reason. */
export const ReadinessReportSchema = z.object({
  ready: z.boolean(),
  /** Why the service is not ready (the first failing check). */
  reason: z.string().optional(),
  checks: z.record(z.string(), CheckSchema),
});
export type ReadinessReport = z.infer<typeof ReadinessReportSchema>;

export const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'health',
  security: [],
  tags: ['operations'],
  summary: 'Liveness: the process is up',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }).openapi('Health') } } } },
});

export const readinessRoute = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'readiness',
  security: [],
  tags: ['operations'],
  summary: 'Readiness: database reachable, migrations applied, embedding model warm (and, for ws-chat, llama-server ready)',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: z.object({ status: z.literal('ready'), checks: z.record(z.string(), CheckSchema) }).openapi('Readiness') } } },
    503: { description: 'Not ready yet; `error.message` says why, `error.details` holds every check', content: { 'application/json': { schema: ErrorResponseSchema } } },
  },
});
