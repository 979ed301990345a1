/**
 * The folders a fanned-out cleanup empties (docs/backup-scaling.md#cleanup-of-backup-data): the
 * plan step fills the queue, the Distributed Map takes it as its items. Items travel in the
 * Step Functions payload (256 KiB, with the report), so a run takes at most
 * {@link MAX_FOLDERS_PER_RUN}; the rest wait for the next run and are reported.
 */
import type { FolderItem } from './input.ts';

/** Folders emptied per run at most (about 150 bytes of payload each). */
export const MAX_FOLDERS_PER_RUN = 200;

export class FolderQueue {
  readonly items: FolderItem[] = [];

  constructor(readonly capacity: number = MAX_FOLDERS_PER_RUN) {}

  get full(): boolean {
    return this.items.length >= this.capacity;
  }

  add(item: FolderItem): void {
    if (this.full) throw new Error(`at most ${this.capacity} folders per run`);
    this.items.push(item);
  }
}
