// Node entry: `npm start`. The only file (with runtime/node.ts) that knows it runs on Node.
import { main } from './main.ts';
import { listenNode, nodeUpgradeWebSocket } from './runtime/node.ts';

await main(
  process.env,
  (maxFrameBytes, port, host) => ({ upgradeWebSocket: nodeUpgradeWebSocket, listen: (app) => listenNode(app, { port, host, maxFrameBytes: maxFrameBytes * 4 }) }),
  (code) => process.exit(code),
);
