/**
 * Loopback HTTP(S) servers for probe tests and benchmarks: a chosen status, body and delay, an
 * HTTPS certificate (self-signed, via `selfsigned`) expiring in N days, a TCP server that never
 * answers (timeouts), and a port with nothing listening (connection refused). Every server
 * listens on 127.0.0.1 port 0 and `close()` ends its open connections and pending replies.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { generate } from 'selfsigned';

const DAY_MS = 86_400_000;
const HOST = '127.0.0.1';

export interface SelfSignedCertificate {
  readonly cert: string;
  readonly key: string;
  readonly validFrom: Date;
  readonly validTo: Date;
}

/** A self-signed certificate for `localhost` and 127.0.0.1 valid from `validFrom` (default a day ago) for `daysValid` days from now. */
export async function selfSignedCertificate(
  options: { daysValid?: number; commonName?: string; validFrom?: Date } = {},
): Promise<SelfSignedCertificate> {
  const now = Date.now();
  const validFrom = options.validFrom ?? new Date(now - DAY_MS);
  const validTo = new Date(now + (options.daysValid ?? 365) * DAY_MS);
  const commonName = options.commonName ?? 'localhost';
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: validFrom,
    notAfterDate: validTo,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: commonName },
          { type: 7, ip: HOST },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private, validFrom, validTo };
}

/** What a test server answers; can be changed while it runs. */
export interface Behaviour {
  status: number;
  body: string;
  /** Milliseconds before the response starts. */
  delayMs: number;
  headers?: Record<string, string>;
}

export interface TestServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The server's certificate (HTTPS servers). */
  readonly certificate?: SelfSignedCertificate;
  /** Requests received so far. */
  readonly requests: number;
  /** Change what the server answers from the next request on. */
  behave(change: Partial<Behaviour>): void;
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<Behaviour> {
  /** Serve HTTPS with this certificate (see {@link selfSignedCertificate}). */
  readonly certificate?: SelfSignedCertificate;
  /** Path part of `url`. @default '/health' */
  readonly path?: string;
}

/** Starts an HTTP (or HTTPS, given a certificate) server on 127.0.0.1 with a free port. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const behaviour: Behaviour = {
    status: options.status ?? 200,
    body: options.body ?? '{"status":"ok"}',
    delayMs: options.delayMs ?? 0,
    ...(options.headers ? { headers: options.headers } : {}),
  };
  const timers = new Set<NodeJS.Timeout>();
  let requests = 0;
  const listener: http.RequestListener = (request, response) => {
    requests++;
    request.resume();
    const { status, body, delayMs, headers } = behaviour;
    const reply = () => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (delayMs <= 0) return reply();
    const timer = setTimeout(() => {
      timers.delete(timer);
      reply();
    }, delayMs);
    timers.add(timer);
  };
  const server = options.certificate
    ? https.createServer({ cert: options.certificate.cert, key: options.certificate.key }, listener)
    : http.createServer(listener);
  server.keepAliveTimeout = 1000;
  await listen(server);
  const { port } = server.address() as net.AddressInfo;
  const scheme = options.certificate ? 'https' : 'http';
  return {
    url: `${scheme}://${HOST}:${port}${options.path ?? '/health'}`,
    host: HOST,
    port,
    ...(options.certificate ? { certificate: options.certificate } : {}),
    get requests() {
      return requests;
    },
    behave(change) {
      Object.assign(behaviour, change);
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP server on 127.0.0.1 that accepts connections and never sends a byte (for timeouts). */
export async function startSilentServer(): Promise<{ host: string; port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => sockets.delete(socket));
  });
  await listen(server);
  const { port } = server.address() as net.AddressInfo;
  return {
    host: HOST,
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening on it: connecting is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await listen(server);
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A DNS lookup that fails every name with ENOTFOUND, so tests of DNS failure send no query. */
export const failingLookup: net.LookupFunction = (hostname, _options, callback) => {
  const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    errno: -3008,
    syscall: 'getaddrinfo',
    hostname,
  });
  process.nextTick(() => callback(error, '', 4));
};

function listen(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
