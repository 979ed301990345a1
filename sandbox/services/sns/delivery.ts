/**
 * Delivers notifications to HTTP/HTTPS subscribers, which must be on this machine: the connection
 * always goes to 127.0.0.1 (a `localhost` endpoint is never resolved through DNS), so the sandbox
 * never sends traffic anywhere else.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'filtered' | 'recorded';

/** What happened to one message for one subscription. */
export interface DeliveryRecord {
  readonly subscriptionArn: string;
  readonly protocol: string;
  readonly endpoint: string;
  status: DeliveryStatus;
  attempts: number;
  /** HTTP status of the last attempt. */
  statusCode?: number;
  /** Why the last attempt failed, when it did. */
  error?: string;
}

export interface DeliveryOptions {
  /** Pauses before each retry; retries = its length. */
  readonly retryDelaysMs: readonly number[];
  /** Per-attempt timeout. */
  readonly timeoutMs: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

/** The endpoint as a URL when it is an http(s) URL on 127.0.0.1 or localhost; undefined otherwise. */
export function loopbackUrl(endpoint: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    // Not a URL at all; the caller rejects the endpoint.
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return LOOPBACK_HOSTS.has(url.hostname) ? url : undefined;
}

/** Sends notifications with retries, and tracks them so the sandbox can wait for or cancel them. */
export class HttpDeliverer {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly options: DeliveryOptions) {}

  /** Starts delivering in the background; `record` is updated as attempts complete. */
  deliver(record: DeliveryRecord, body: string, headers: Readonly<Record<string, string>>): void {
    const url = loopbackUrl(record.endpoint);
    if (!url) {
      record.status = 'failed';
      record.error = 'Endpoint is not on 127.0.0.1 or localhost; the sandbox delivers only to this machine';
      return;
    }
    const task = this.run(record, url, body, headers).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  /** Resolves once every delivery started so far has finished (delivered or given up). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Cancels pending retries and in-flight requests, and waits for them to stop. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.idle();
  }

  private async run(
    record: DeliveryRecord,
    url: URL,
    body: string,
    headers: Readonly<Record<string, string>>,
  ) {
    const delays = this.options.retryDelaysMs;
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (attempt > 0 && !(await this.pause(delays[attempt - 1] ?? 0))) break;
      if (this.abort.signal.aborted) break;
      record.attempts += 1;
      try {
        const status = await this.post(url, body, headers);
        record.statusCode = status;
        if (status >= 200 && status < 300) {
          record.status = 'delivered';
          delete record.error;
          return;
        }
        record.error = `HTTP ${status}`;
        // Client errors other than throttling are not retried, as in SNS.
        if (status >= 400 && status < 500 && status !== 429) break;
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error);
      }
    }
    record.status = 'failed';
    if (this.abort.signal.aborted) record.error = 'Sandbox stopped before the message was delivered';
  }

  /** Waits, unless the sandbox stops first; false when it did. */
  private pause(ms: number): Promise<boolean> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private post(url: URL, body: string, headers: Readonly<Record<string, string>>): Promise<number> {
    const secure = url.protocol === 'https:';
    const auth = url.username
      ? {
          authorization: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`,
        }
      : {};
    const options = {
      host: '127.0.0.1',
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { ...headers, ...auth, host: url.host, 'content-length': String(Buffer.byteLength(body)) },
      signal: this.abort.signal,
      timeout: this.options.timeoutMs,
      // Loopback test endpoints use self-signed certificates.
      ...(secure
        ? { rejectUnauthorized: false, servername: url.hostname === 'localhost' ? 'localhost' : undefined }
        : {}),
    };
    return new Promise((resolve, reject) => {
      const onResponse = (response: IncomingMessage) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      };
      const req = secure ? httpsRequest(options, onResponse) : httpRequest(options, onResponse);
      req.on('timeout', () => req.destroy(new Error(`No response within ${this.options.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
