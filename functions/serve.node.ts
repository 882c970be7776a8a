// Node entry: `npm start`. The only file (with runtime/node.ts) that knows it runs on Node.
import { main } from './main.ts';
import { listenNode, nodeClientAddress, nodeUpgradeWebSocket } from './runtime/node.ts';

// ws's payload limit sits above WS_MAX_FRAME_BYTES: a frame a little too big gets the handler's
// `frame_too_large` error frame (and the socket stays open) instead of a bare close 1009.
const SOCKET_PAYLOAD_HEADROOM = 4;

await main(
  process.env,
  (settings) => ({
    upgradeWebSocket: nodeUpgradeWebSocket,
    clientAddress: nodeClientAddress,
    listen: (app) => listenNode(app, { port: settings.port, host: settings.host, maxFrameBytes: settings.maxFrameBytes * SOCKET_PAYLOAD_HEADROOM, pingIntervalMs: settings.pingIntervalMs }),
  }),
  (code) => process.exit(code),
);
