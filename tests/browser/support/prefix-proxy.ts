import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface PrefixProxy {
  port: number;
  close(): Promise<void>;
}

/**
 * A reverse proxy like the gateway's: `/rag/…` goes to `127.0.0.1:<targetPort>/…` with the
 * prefix stripped, WebSocket upgrades included, and `/rag` redirects to `/rag/`. Small on
 * purpose: it exists to prove the page works under a sub-path, not to be a proxy.
 */
export function startPrefixProxy(prefix: string, targetPort: number): Promise<PrefixProxy> {
  const base = prefix.replace(/\/+$/, '');
  const strip = (url: string | undefined): string | undefined => {
    if (!url || !url.startsWith(`${base}/`)) return undefined;
    return url.slice(base.length);
  };
  const sockets = new Set<net.Socket>();

  const server = http.createServer((request, response) => {
    if (request.url === base) {
      response.writeHead(301, { Location: `${base}/` }).end();
      return;
    }
    const target = strip(request.url);
    if (target === undefined) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not under the proxied prefix');
      return;
    }
    const upstream = http.request({ host: '127.0.0.1', port: targetPort, method: request.method, path: target, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.writeHead(502).end());
    request.pipe(upstream);
  });

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('upgrade', (request, client, head) => {
    const target = strip(request.url);
    if (target === undefined) {
      client.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1', () => {
      const headerLines: string[] = [];
      for (let index = 0; index < request.rawHeaders.length; index += 2) headerLines.push(`${request.rawHeaders[index]}: ${request.rawHeaders[index + 1]}`);
      upstream.write(`${request.method} ${target} HTTP/1.1\r\n${headerLines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream).pipe(client);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
