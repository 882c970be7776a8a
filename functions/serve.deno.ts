// Deno entry: `deno task start`. Deno's adapter is runtime/deno.ts.
import { main } from './main.ts';
import { denoRuntime } from './runtime/deno.ts';

await main(denoRuntime);
