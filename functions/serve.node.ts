// Node entry: `npm start`. Node's adapter is runtime/node.ts.
import { main } from './main.ts';
import { nodeRuntime } from './runtime/node.ts';

await main(nodeRuntime);
