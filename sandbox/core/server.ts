/**
 * The sandbox server: one loopback port, HTTP and HTTPS, for every emulated service. Each signed
 * request is attributed to its caller (the administrator, or a role session with credentials the
 * sandbox issued) and handed to its service, which authorizes it through `req.authorize` (IAM,
 * decided in access/access-control.ts) before answering.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { IamRegistry } from '../iam-registry/index.ts';
import { AccessControl, type EnforcementMode, type IamSettings } from './access/access-control.ts';
import type { AccessCheck } from './access/checks.ts';
import type { Denial } from './access/denials.ts';
import { defaultAccessDenied, defaultInvalidCredentials } from './access/errors.ts';
import { type DataDirLock, lockDataDir } from './data-dir-lock.ts';
import { type Listener, listenHttpAndHttps } from './listener.ts';
import { sendError, toAwsError } from './responses.ts';
import { credentialScope } from './sigv4.ts';
import { prepareTls } from './tls/authority.ts';
import {
  AwsError,
  type RequestCaller,
  SANDBOX_ACCOUNT_ID,
  type SandboxRequest,
  type SandboxService,
} from './types.ts';

/** What every service can reach: where to keep data, the account, and the other services. */
export interface SandboxContext {
  /** Directory for this sandbox's data (object bodies, database files). */
  readonly dataDir: string;
  /** Region used when a caller does not say. */
  readonly defaultRegion: string;
  readonly accountId: string;
  /** The sandbox's own endpoint, e.g. http://127.0.0.1:4566 (set once listening). */
  readonly endpoint: string;
  /** The same port over TLS, e.g. https://127.0.0.1:4566: what deployed functions are given. */
  readonly httpsEndpoint: string;
  /** The CA that signs the HTTPS endpoint's certificate, kept in `<dataDir>/tls/ca.pem`. */
  readonly tls: { readonly caPath: string; readonly caCertificate: string };
  /** IAM enforcement: role session credentials, decisions, and the record of denials. */
  readonly access: AccessControl;
  /** Options given to {@link startSandbox}, for services to read their own settings from. */
  readonly options: SandboxOptions;
  /** Another service by signing name, for cross-service behaviour (RDS checking a KMS key). */
  service<T extends SandboxService>(signingName: string): T | undefined;
}

/** Creates one service. Factories run in order; a later service can look up an earlier one. */
export type ServiceFactory = (context: SandboxContext) => SandboxService | Promise<SandboxService>;

export interface SandboxOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number;
  /**
   * Data directory; a fresh temporary directory when omitted (removed again by stop()). One
   * sandbox at a time: starting on a directory a live sandbox holds throws DataDirLockedError.
   */
  readonly dataDir?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** The services to run. */
  readonly services: readonly ServiceFactory[];
  /** Per-service settings, read by the services themselves (e.g. `{ rds: { statusDelayMs: 200 } }`). */
  readonly settings?: Readonly<Record<string, unknown>>;
}

export interface Sandbox {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** The same port over TLS, e.g. https://127.0.0.1:41234 (trust {@link caPath}). */
  readonly httpsUrl: string;
  /** The sandbox CA's certificate file, for `--ca-bundle`, AWS_CA_BUNDLE or NODE_EXTRA_CA_CERTS. */
  readonly caPath: string;
  readonly port: number;
  readonly context: SandboxContext;
  /** Environment that points the AWS SDK and CLI at this sandbox. */
  env(): Record<string, string>;
  /** Every call IAM refused so far (or would have, in report mode), oldest first. */
  denials(): Denial[];
  /** Stops accepting requests, closes every service (and its child processes) and the listener. */
  stop(): Promise<void>;
}

const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

/** `settings.iam.enforcement`; `startSandbox` reports unless told to enforce (see IamSettings). */
function enforcementOf(options: SandboxOptions): EnforcementMode {
  const settings = (options.settings?.iam ?? {}) as IamSettings;
  const mode = settings.enforcement ?? 'report';
  if (mode !== 'enforce' && mode !== 'report') {
    throw new Error(`settings.iam.enforcement must be 'enforce' or 'report', not ${String(mode)}`);
  }
  return mode;
}
const INSPECTION_PATH = /^\/_sandbox\/([a-z0-9-]+)(?:\/|$)/;

function readBody(raw: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    raw.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new AwsError('RequestEntityTooLarge', `Request body exceeds ${limitBytes} bytes`, 413));
        raw.destroy();
        return;
      }
      chunks.push(chunk);
    });
    raw.on('end', () => resolve(Buffer.concat(chunks)));
    raw.on('error', reject);
  });
}

/**
 * Starts the sandbox on 127.0.0.1 and resolves once it accepts requests. Throws
 * DataDirLockedError, before touching anything, when another live sandbox holds the data directory.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const mode = enforcementOf(options);
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'caretaker-sandbox-'));
  mkdirSync(dataDir, { recursive: true });
  let lock: DataDirLock;
  try {
    lock = await lockDataDir(dataDir);
  } catch (error) {
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const services = new Map<string, SandboxService>();
  let endpoint = '';
  let httpsEndpoint = '';
  let tls: ReturnType<typeof prepareTls>;
  try {
    tls = prepareTls(dataDir);
  } catch (error) {
    await releaseDataDir();
    throw error;
  }
  const access = new AccessControl({
    accountId: SANDBOX_ACCOUNT_ID,
    mode,
    registry: () => services.get('iam') as IamRegistry | undefined,
  });
  const context: SandboxContext = {
    dataDir,
    defaultRegion: options.region ?? 'us-east-1',
    accountId: SANDBOX_ACCOUNT_ID,
    get endpoint() {
      return endpoint;
    },
    get httpsEndpoint() {
      return httpsEndpoint;
    },
    tls: { caPath: tls.caPath, caCertificate: tls.caCertificate },
    access,
    options,
    service: <T extends SandboxService>(name: string) => services.get(name) as T | undefined,
  };

  const server: Server = createServer((raw, res) => {
    void route(raw, res);
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  server.keepAliveTimeout = 30_000;
  server.requestTimeout = 0; // multi-GiB uploads may take long

  async function route(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    res.setHeader('x-amzn-requestid', requestId);
    res.setHeader('x-amz-request-id', requestId);
    let service: SandboxService | undefined;
    try {
      const url = new URL(raw.url ?? '/', endpoint || 'http://127.0.0.1');
      const inspected = INSPECTION_PATH.exec(url.pathname)?.[1];
      if (inspected !== undefined) {
        await inspect(inspected, raw, res, url, requestId);
        return;
      }
      const scope = credentialScope(raw.headers, url);
      if (!scope) {
        throw new AwsError(
          'MissingAuthenticationToken',
          'Request is missing a SigV4 Authorization header',
          403,
        );
      }
      service = services.get(scope.service);
      if (!service) {
        throw new AwsError(
          'UnknownService',
          `The sandbox does not emulate the "${scope.service}" service`,
          400,
        );
      }
      const target: SandboxService = service;
      const identified = access.credentials.identify(scope.accessKeyId, scope.sessionToken);
      if (identified.kind === 'unknown-key' || identified.kind === 'invalid-token') {
        throw (
          target.invalidCredentials?.(identified.kind, identified.accessKeyId) ??
          defaultInvalidCredentials(target.protocol, identified.kind, identified.accessKeyId)
        );
      }
      const caller: RequestCaller = identified;
      const socket = raw.socket as TLSSocket;
      const secureTransport = socket.encrypted === true;
      const tlsVersion = secureTransport ? (socket.getProtocol() ?? undefined) : undefined;
      let authorized = caller.kind === 'administrator';
      if (!authorized) guardUnauthorizedAnswers(res, () => authorized, scope.service);
      const request: SandboxRequest = {
        method: raw.method ?? 'GET',
        url,
        headers: raw.headers,
        raw,
        service: scope.service,
        region: scope.region,
        accessKeyId: scope.accessKeyId,
        caller,
        secureTransport,
        ...(tlsVersion === undefined ? {} : { tlsVersion }),
        requestId,
        readBody: (limit = DEFAULT_BODY_LIMIT) => readBody(raw, limit),
        authorize(checks: readonly AccessCheck[], operation?: string) {
          authorized = true;
          if (caller.kind !== 'role') return;
          const denial = access.evaluate(caller, checks, {
            service: scope.service,
            ...(operation === undefined ? {} : { operation }),
            region: scope.region,
            secureTransport,
            ...(tlsVersion === undefined ? {} : { tlsVersion }),
            sourceIp: sourceIpOf(raw),
            requestId,
            origin: 'request',
          });
          if (denial?.enforced) {
            throw target.accessDenied?.(denial) ?? defaultAccessDenied(target.protocol, denial);
          }
        },
      };
      await target.handle(request, res);
    } catch (error) {
      const protocol = service?.protocol ?? 'json';
      const awsError = toAwsError(error, protocol);
      if (awsError.status >= 500) console.error(`[sandbox] ${raw.method} ${raw.url}:`, error);
      if (service?.sendError && awsError.status < 500 && !res.headersSent) {
        service.sendError(res, awsError, requestId);
      } else {
        sendError(res, protocol, awsError, requestId, raw.url ?? '');
      }
      // Drain whatever the client is still sending so the connection stays usable.
      if (!raw.complete) raw.resume();
    }
  }

  /** Unsigned inspection routes (`/_sandbox/<service>/…`); errors render as JSON. */
  async function inspect(
    name: string,
    raw: IncomingMessage,
    res: ServerResponse,
    url: URL,
    requestId: string,
  ): Promise<void> {
    const target = services.get(name);
    if (!target?.handleInspection) {
      throw new AwsError('NotFound', `The sandbox has no inspection routes for "${name}"`, 404);
    }
    await target.handleInspection(
      {
        method: raw.method ?? 'GET',
        url,
        headers: raw.headers,
        raw,
        service: name,
        region: url.searchParams.get('region') ?? context.defaultRegion,
        accessKeyId: '',
        caller: { kind: 'administrator' },
        secureTransport: (raw.socket as TLSSocket).encrypted === true,
        requestId,
        readBody: (limit = DEFAULT_BODY_LIMIT) => readBody(raw, limit),
        authorize: () => undefined,
      },
      res,
    );
  }

  let listener: Listener;
  try {
    listener = await listenHttpAndHttps(server, tls, options.port ?? 0);
  } catch (error) {
    await releaseDataDir();
    throw error;
  }
  const port = listener.port;
  endpoint = `http://127.0.0.1:${port}`;
  httpsEndpoint = `https://127.0.0.1:${port}`;

  try {
    for (const factory of options.services) {
      const service = await factory(context);
      services.set(service.signingName, service);
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  async function closeAll(): Promise<void> {
    await listener.close();
    const results = await Promise.allSettled([...services.values()].map((service) => service.close?.()));
    for (const result of results) {
      if (result.status === 'rejected') console.error('[sandbox] service failed to close:', result.reason);
    }
    await releaseDataDir();
  }

  /** Frees the data directory for the next sandbox (after every service has let go of it). */
  async function releaseDataDir(): Promise<void> {
    await lock.release();
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  }

  let stopping: Promise<void> | undefined;
  return {
    url: endpoint,
    httpsUrl: httpsEndpoint,
    caPath: tls.caPath,
    port,
    context,
    env: () => ({
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: context.defaultRegion,
      AWS_DEFAULT_REGION: context.defaultRegion,
      AWS_ACCESS_KEY_ID: 'sandbox',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    denials: () => access.denials.list(),
    stop: () => {
      stopping ??= closeAll();
      return stopping;
    },
  };
}

/** The caller's address, as `aws:SourceIp` sees it (IPv4-mapped IPv6 written as IPv4). */
function sourceIpOf(raw: IncomingMessage): string | undefined {
  const address = raw.socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Makes a success answer to a role session's request fail unless the service authorized it first:
 * an operation its authorization module forgot would otherwise be silently allowed. Errors (4xx,
 * 5xx) may go out unauthorized: a malformed request or a missing bucket is refused before IAM.
 */
function guardUnauthorizedAnswers(res: ServerResponse, authorized: () => boolean, service: string): void {
  const refuse = (status: number) => {
    if (!authorized() && !res.headersSent && status < 400) {
      throw new Error(
        `The sandbox's ${service} answered a role session's request without authorizing it (its authorization module misses this operation)`,
      );
    }
  };
  const writeHead = res.writeHead.bind(res);
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    refuse(status);
    return (writeHead as (...args: unknown[]) => ServerResponse)(status, ...rest);
  }) as typeof res.writeHead;
  res.write = ((...args: unknown[]) => {
    refuse(res.statusCode);
    return (write as (...args: unknown[]) => boolean)(...args);
  }) as typeof res.write;
  res.end = ((...args: unknown[]) => {
    refuse(res.statusCode);
    return (end as (...args: unknown[]) => ServerResponse)(...args);
  }) as typeof res.end;
}
