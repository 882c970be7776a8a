import { OpenAPIHono } from '@hono/zod-openapi';
import { validationError } from './error-response.ts';

/**
 * An OpenAPIHono whose validation failures all become the same 400 error body (the
 * `defaultHook` is the one place they take their shape). Every function app is one.
 */
export function openApiApp(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues);
    },
  });
}
