/**
 * One loopback port that speaks both HTTP and HTTPS: the first byte a client sends tells them apart
 * (a TLS handshake starts with 0x16, an HTTP request with a method's letter), so
 * `http://127.0.0.1:4566` and `https://127.0.0.1:4566` are the same sandbox and nothing needs a
 * second port. HTTPS uses the sandbox CA's server certificate (tls/authority.ts).
 */
import type { Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

const TLS_HANDSHAKE = 0x16;

export interface Listener {
  readonly port: number;
  /** Stops accepting connections and ends the open ones. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` and hands every connection, decrypted when it is TLS, to `http`. */
export async function listenHttpAndHttps(
  http: HttpServer,
  tls: { readonly certificate: string; readonly privateKey: string },
  port: number,
): Promise<Listener> {
  const sockets = new Set<Socket>();
  const secure = createTlsServer(
    { cert: tls.certificate, key: tls.privateKey, minVersion: 'TLSv1.2' },
    (socket) => http.emit('connection', socket),
  );
  // A client that refuses the certificate (one not told to trust the CA) just goes away.
  secure.on('tlsClientError', (_error, socket) => socket.destroy());
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === TLS_HANDSHAKE ? secure : http).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        http.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}
