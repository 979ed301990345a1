/**
 * HTTP(S) probe: N sequential requests, each on a fresh connection (a broken keep-alive socket
 * is never reused) with its own timeout, timed to the last byte of the response; then a pure
 * evaluation of status, body match, error rate and p95 latency against the check's thresholds.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HttpCheck } from '../check-set.ts';
import { type CheckOutcome, FAIL_ERROR_RATE_PERCENT } from '../evaluate.ts';
import { guardedLookup, refusedTarget } from '../forbidden-address.ts';
import { latencyStats } from '../latency.ts';
import { describeError, timeoutMessage } from './errors.ts';

/** Body bytes kept for the body match; the rest is read (and timed) but not kept. */
export const MAX_BODY_BYTES = 1024 * 1024;
const USER_AGENT = 'Caretaker-HealthCheck/1.0';

/** One request's outcome. */
export interface HttpSample {
  /** Time from sending the request to the last byte of the response, when one arrived. */
  readonly ms: number;
  readonly status?: number;
  readonly bodyMatched?: boolean;
  /** Why the sample failed: transport error, timeout, unexpected status or body mismatch. */
  readonly error?: string;
}

export interface HttpProbeOptions {
  /** Resolves host names (tests inject one so no DNS query leaves the machine). */
  readonly lookup?: LookupFunction;
  /** Trusted CA certificates for HTTPS instead of Node's default store (tests trust their self-signed server). */
  readonly ca?: string | readonly string[];
  /** Cancels the whole check (the runner's deadline). */
  readonly signal?: AbortSignal;
}

/** Sends one request and reads the whole response. Never rejects: failures become the sample's error. */
export function sendSample(check: HttpCheck, options: HttpProbeOptions = {}): Promise<HttpSample> {
  const url = new URL(check.url);
  const transport = url.protocol === 'https:' ? https : http;
  const timeout = AbortSignal.timeout(check.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  return new Promise<HttpSample>((resolve) => {
    let settled = false;
    const settle = (sample: HttpSample) => {
      if (settled) return;
      settled = true;
      resolve(sample);
    };
    const fail = (error: unknown) =>
      settle({
        ms: elapsed(),
        error: timeout.aborted ? timeoutMessage(check.timeoutMs) : describeError(error),
      });
    // Validation refuses forbidden literals already; refusing here too keeps the probe safe on its
    // own, and the runtime API's host:port is only known at run time.
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const refused = refusedTarget(url.hostname, port);
    if (refused) {
      fail(refused);
      return;
    }
    const request = transport.request(
      url,
      {
        method: check.method,
        agent: false,
        headers: { 'user-agent': USER_AGENT, accept: '*/*', connection: 'close' },
        signal,
        // The address a name resolves to is checked in the lookup the connection uses: DNS cannot smuggle one in.
        lookup: guardedLookup(options.lookup, port),
        ...(options.ca ? { ca: [...(Array.isArray(options.ca) ? options.ca : [options.ca])] } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on('data', (chunk: Buffer) => {
          if (kept >= MAX_BODY_BYTES) return;
          chunks.push(chunk);
          kept += chunk.length;
        });
        response.on('error', fail);
        // A connection closed mid-body ends the response without 'end'; settle() ignores this after 'end'.
        response.on('close', () => {
          if (!response.complete) fail(new Error('the connection closed before the response was complete'));
        });
        response.on('end', () => {
          const ms = elapsed();
          const status = response.statusCode ?? 0;
          if (!check.expectedStatus.includes(status)) {
            settle({ ms, status, error: `status ${status} (expected ${check.expectedStatus.join('/')})` });
            return;
          }
          if (check.bodyMatch !== undefined) {
            const body = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
            const bodyMatched = new RegExp(check.bodyMatch).test(body);
            settle(
              bodyMatched
                ? { ms, status, bodyMatched }
                : { ms, status, bodyMatched, error: `body did not match /${check.bodyMatch}/` },
            );
            return;
          }
          settle({ ms, status });
        });
      },
    );
    request.on('error', fail);
    request.end();
  });
}

/** Runs the check's samples one after another (parallel samples would measure the endpoint under our own load). */
export async function probeHttp(check: HttpCheck, options: HttpProbeOptions = {}): Promise<CheckOutcome> {
  const samples: HttpSample[] = [];
  for (let i = 0; i < check.samples; i++) {
    if (options.signal?.aborted) break;
    samples.push(await sendSample(check, options));
  }
  return evaluateHttp(check, samples);
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

const oneDecimal = (value: number) => Math.round(value * 10) / 10;

/** Decides pass/warn/fail from the samples (pure). */
export function evaluateHttp(check: HttpCheck, samples: readonly HttpSample[]): CheckOutcome {
  const failed = samples.filter((sample) => sample.error !== undefined);
  const errorRatePercent = samples.length === 0 ? 100 : oneDecimal((failed.length / samples.length) * 100);
  // Latency over every full response, including wrong statuses: they were measured too.
  const latency = latencyStats(samples.filter((s) => s.status !== undefined).map((s) => s.ms));
  const errors = countBy(failed.map((sample) => sample.error!));
  const latencyBreached = latency !== undefined && latency.p95Ms > check.latencyThresholdMs;
  const errorRateBreached = errorRatePercent > check.errorRateThresholdPercent;
  const status =
    errorRatePercent >= FAIL_ERROR_RATE_PERCENT
      ? 'fail'
      : latencyBreached || errorRateBreached
        ? 'warn'
        : 'pass';

  const parts = [
    `${check.method} ${check.url}: ${samples.length - failed.length}/${samples.length} ok`,
    `error rate ${errorRatePercent}% (threshold ${check.errorRateThresholdPercent}%)`,
    latency
      ? `p95 ${latency.p95Ms} ms (threshold ${check.latencyThresholdMs} ms)`
      : `no response (latency threshold ${check.latencyThresholdMs} ms)`,
  ];
  const worst = Object.entries(errors).sort((a, b) => b[1] - a[1])[0];
  if (worst) parts.push(`${worst[0]}${worst[1] > 1 ? ` ×${worst[1]}` : ''}`);

  return {
    status,
    summary: parts.join(', '),
    evidence: {
      url: check.url,
      method: check.method,
      samples: samples.length,
      okSamples: samples.length - failed.length,
      errorRatePercent,
      errorRateThresholdPercent: check.errorRateThresholdPercent,
      failErrorRatePercent: FAIL_ERROR_RATE_PERCENT,
      latency: latency ?? null,
      latencyThresholdMs: check.latencyThresholdMs,
      timeoutMs: check.timeoutMs,
      expectedStatus: check.expectedStatus,
      ...(check.bodyMatch !== undefined ? { bodyMatch: check.bodyMatch } : {}),
      statusCodes: countBy(samples.filter((s) => s.status !== undefined).map((s) => String(s.status))),
      errors,
      sampleResults: samples.map((sample) => ({ ...sample, ms: oneDecimal(sample.ms) })),
    },
  };
}
