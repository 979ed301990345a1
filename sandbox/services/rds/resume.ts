/**
 * Picking up after a restart with the same data directory.
 */
import { applyNow, failRecord, failSnapshot, provision, retire } from './lifecycle.ts';
import { finishImmediateActions } from './maintenance.ts';
import type { RdsRuntime, ServerRecord } from './runtime.ts';

/**
 * Picks up after a restart with the same data directory: servers start again, interrupted work
 * is finished, and files no record refers to (a crash mid-copy) are removed.
 *
 * A `failed` record is tried again too. In the sandbox, failed means a server died or could not
 * start (killed by hand or by the OOM killer, its files unreachable, a sandbox killed mid-way), not
 * a lost database: with its data complete it starts again as after any restart, and a creation cut
 * short is redone while its master password is still known. If it fails again, it is `failed`
 * again, with its log saying why.
 */
export async function resume(rt: RdsRuntime): Promise<void> {
  const { store, manager } = rt;
  for (const snapshot of [...store.snapshots.values()]) {
    if (!snapshot.home) store.snapshots.delete(snapshot.key);
    else if (snapshot.status !== 'available')
      rt.background(snapshot.key, () => rt.completeSnapshot(snapshot), failSnapshot(snapshot));
  }
  const records: ServerRecord[] = [...store.clusters.values(), ...store.instances.values()];
  const homes = new Set<string>();
  for (const record of records) {
    if (record.home) homes.add(record.home);
    if (record.status === 'deleting') {
      rt.background(record.key, () => retire(rt, record), failRecord(record));
    } else if (
      record.status === 'failed' &&
      !record.homeReady &&
      record.masterPassword === undefined &&
      !(record.kind === 'db' && record.clusterKey)
    ) {
      // Nothing to bring back: no complete data, and no password to create it again with.
    } else if (!record.homeReady && !(record.kind === 'db' && record.clusterKey)) {
      record.status = 'creating';
      provision(rt, record);
    } else if (record.kind === 'db' && record.clusterKey) {
      if (record.status !== 'available') provision(rt, record);
    } else {
      // As an AWS instance being started: its endpoint answers once its server is up.
      record.status = 'starting';
      rt.background(
        record.key,
        async () => {
          await rt.startServer(record);
          if (record.applying) await applyNow(rt, record);
          finishImmediateActions(rt, record);
          record.status = 'available';
          store.save();
        },
        failRecord(record),
      );
    }
  }
  for (const snapshot of store.snapshots.values()) if (snapshot.home) homes.add(snapshot.home);
  for (const home of [...(await manager.listHomes('servers')), ...(await manager.listHomes('snapshots'))]) {
    if (!homes.has(home)) await manager.remove(home);
  }
  store.save();
}
