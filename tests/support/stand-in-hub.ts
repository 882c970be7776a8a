import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A model hub on 127.0.0.1 serving `files` at `/<repo>/resolve/<revision>/<file>` like the
 * real one (Range requests answered with 206). `cutAfterBytes` makes the first full request
 * close its connection after that many bytes, as a flaky network does.
 */
export async function startStandInHub(options: { files: Record<string, Uint8Array>; cutAfterBytes?: number }) {
  const requests: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let cutPending = options.cutAfterBytes !== undefined;
  const server = createServer((request, response) => {
    requests.push({ url: request.url ?? '', headers: request.headers });
    const body = options.files[request.url ?? ''];
    if (!body) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Entry not found');
      return;
    }
    const range = request.headers.range?.match(/^bytes=(\d+)-$/);
    const start = range ? Number(range[1]) : 0;
    if (start >= body.length) {
      response.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length - start), 'Accept-Ranges': 'bytes' };
    if (range) response.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
    else response.writeHead(200, headers);
    if (cutPending && !range) {
      cutPending = false;
      response.write(body.subarray(0, options.cutAfterBytes));
      // Let the bytes leave, then drop the connection mid-body.
      setTimeout(() => request.socket.destroy(), 50);
      return;
    }
    response.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
