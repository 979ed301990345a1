/**
 * Free loopback ports for PostgreSQL servers. A port is probed by binding it, then held in an
 * in-process reservation until released, so two servers starting at once never get the same one.
 */
import { createServer } from 'node:net';

const reserved = new Set<number>();

/** True when nothing listens on 127.0.0.1:`port` and this process has not reserved it. */
export async function isPortFree(port: number): Promise<boolean> {
  if (reserved.has(port)) return false;
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      probe.close(() => resolve(true));
    });
  });
}

/** Reserves a free loopback port chosen by the kernel (and not ruled out by `avoid`). */
export async function reserveFreePort(avoid?: (port: number) => boolean): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
        const address = probe.address();
        const chosen = typeof address === 'object' && address ? address.port : 0;
        probe.close(() => resolve(chosen));
      });
    });
    if (!reserved.has(port) && !avoid?.(port)) {
      reserved.add(port);
      return port;
    }
  }
}

/** Reserves a given port when it is free; false when it is taken. */
export async function reservePort(port: number): Promise<boolean> {
  if (!(await isPortFree(port))) return false;
  if (reserved.has(port)) return false;
  reserved.add(port);
  return true;
}

/** Gives a port back. */
export function releasePort(port: number): void {
  reserved.delete(port);
}
