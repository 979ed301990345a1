/**
 * Health-check runner benchmark: 100 HTTP endpoints on loopback, each answering after 1 s, checked
 * in process by the same runner the health-check function uses (one sample per endpoint).
 *
 * Target (issue 6): the whole run in ≤ 1.5 s. As a peer measured in the same run it prints the
 * sequential sum of the per-check times (what checking one endpoint after another would take).
 * Ends with one JSON line {"wallSeconds100", "sequentialSeconds", "speedup"}.
 *
 * Run: npx tsx bench/health.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import type { HttpCheck } from '../functions/health-check/check-set.ts';
import { buildChecks } from '../functions/health-check/plan.ts';
import { evaluateChecks } from '../functions/health-check/runner.ts';
import { startTestServer, type TestServer } from '../test/support/https-server.ts';

const ENDPOINTS = 100;
const DELAY_MS = 1000;
const TARGET_SECONDS = 1.5;

async function main(): Promise<void> {
  const servers: TestServer[] = await Promise.all(
    Array.from({ length: ENDPOINTS }, () => startTestServer({ delayMs: DELAY_MS })),
  );
  try {
    const http: HttpCheck[] = servers.map((server, index) => ({
      name: `endpoint-${String(index).padStart(3, '0')}`,
      url: server.url,
      method: 'GET',
      expectedStatus: [200],
      samples: 1,
      latencyThresholdMs: 2000,
      errorRateThresholdPercent: 5,
      timeoutMs: 5000,
    }));
    const checks = buildChecks(
      { http, tls: [], rds: [], queries: [], logs: [], backupSets: [], rdsTargets: [] },
      {
        rds: () => new RDSClient({}),
        s3: () => new S3Client({}),
        password: () => Promise.reject(new Error('no database in this benchmark')),
        databaseTls: false,
      },
    );

    const started = performance.now();
    const result = await evaluateChecks(checks);
    const wallSeconds = (performance.now() - started) / 1000;
    const sequentialSeconds = result.checks.reduce((sum, check) => sum + check.durationMs, 0) / 1000;

    const passed = result.checks.filter((check) => check.status === 'pass').length;
    if (result.status !== 'healthy' || passed !== ENDPOINTS) {
      throw new Error(`expected ${ENDPOINTS} passing checks, got ${passed} (status ${result.status})`);
    }
    const speedup = sequentialSeconds / wallSeconds;
    console.log(`endpoints:                    ${ENDPOINTS} (each answers after ${DELAY_MS} ms), all passed`);
    console.log(`wall time of the run:         ${wallSeconds.toFixed(3)} s  (target ≤ ${TARGET_SECONDS} s)`);
    console.log(`sequential sum of the checks: ${sequentialSeconds.toFixed(3)} s`);
    console.log(`speedup:                      ${speedup.toFixed(1)}×`);
    console.log(
      JSON.stringify({
        wallSeconds100: Number(wallSeconds.toFixed(3)),
        sequentialSeconds: Number(sequentialSeconds.toFixed(3)),
        speedup: Number(speedup.toFixed(1)),
      }),
    );
  } finally {
    await Promise.all(servers.map((server) => server.close()));
  }
}

await main();
