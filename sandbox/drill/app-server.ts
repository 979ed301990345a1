/**
 * The application the drill's health checks probe, served on loopback: it answers 200 while the
 * database it depends on is on a class it supports, and 500 once an update moves the database to
 * the class it breaks on — so an Update that applies that class fails its post-update health and
 * must roll back, as a real application failing after a change would make it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';

export interface AppServer {
  readonly port: number;
  /** Requests answered 500 so far. */
  readonly failures: () => number;
  close(): Promise<void>;
}

/** Serves /health on 127.0.0.1:`port` (0: a free port). */
export async function startAppServer(options: {
  readonly port: number;
  readonly rds: RDSClient;
  readonly instance: string;
  /** The instance class the application breaks on. */
  readonly breaksOnClass: string;
}): Promise<AppServer> {
  let failures = 0;
  let cached: { at: number; instanceClass: string | undefined } | undefined;
  const instanceClass = async () => {
    if (cached && Date.now() - cached.at < 100) return cached.instanceClass;
    const described = await options.rds
      .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: options.instance }))
      .catch(() => undefined);
    cached = { at: Date.now(), instanceClass: described?.DBInstances?.[0]?.DBInstanceClass };
    return cached.instanceClass;
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      if (request.url !== '/health') {
        response.writeHead(404).end();
        return;
      }
      const broken = (await instanceClass()) === options.breaksOnClass;
      if (broken) failures += 1;
      response
        .writeHead(broken ? 500 : 200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: broken ? 'error' : 'ok' }));
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    failures: () => failures,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
