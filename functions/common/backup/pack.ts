/**
 * Packs (format 2): the encrypted copies of many small objects written back to back into one
 * stored object, `packs/<batch>/<first member's index>`, so a backup of small objects makes one
 * PUT per pack instead of one per object — per-request overhead, not bytes, is what small
 * objects cost (docs/backup-scaling.md). Each copy stays a whole Encryption SDK message of its own,
 * read back alone with a ranged GET; its entry records the pack, its offset and its size.
 *
 * Members are read and encrypted concurrently, each as its own task; the pack is written once
 * the last of them settled and no member will join, in index order whatever order they finished.
 */
import type { ManifestEntry } from './manifest.ts';
import { packedEntry, type SealedObject } from './store-object.ts';

/** What goes into packs. */
export interface PackSettings {
  /** Objects whose listed size is at most this go into packs; 0 turns packing off. */
  readonly maxObjectBytes: number;
  /** A pack takes no more members once their listed sizes add up to this. */
  readonly targetBytes: number;
}

/** Objects up to 256 KiB, in packs of about 8 MiB (one multipart part's worth). */
export const DEFAULT_PACK_SETTINGS: PackSettings = {
  maxObjectBytes: 256 * 1024,
  targetBytes: 8 * 1024 * 1024,
};

/** What became of one member: sealed for the pack, stored alone (it had grown), or gone. */
export type MemberOutcome = SealedObject | ManifestEntry | 'vanished';

/** What a written pack reports per member index. */
export type PackResult = ReadonlyMap<number, { readonly entry: ManifestEntry } | { readonly vanished: true }>;

function isSealed(outcome: MemberOutcome): outcome is SealedObject {
  return typeof outcome === 'object' && 'message' in outcome;
}

/** One pack being filled: members join in index order, settle in any order, and are written together. */
export class Pack {
  private readonly members: number[] = [];
  private readonly outcomes = new Map<number, MemberOutcome>();
  private plannedBytes = 0;
  private closed = false;
  private finished = false;
  private resolveWritten!: (result: PackResult) => void;
  private rejectWritten!: (error: unknown) => void;
  /** Settles once the pack is written (or found empty), or with the first failure of a member or the write. */
  readonly written: Promise<PackResult>;

  constructor(
    /** The stored key: the first member's pack key. */
    readonly key: string,
    private readonly settings: PackSettings,
    private readonly write: (body: Buffer) => Promise<void>,
  ) {
    this.written = new Promise<PackResult>((resolve, reject) => {
      this.resolveWritten = resolve;
      this.rejectWritten = reject;
    });
    // Failures are also reported where the member failed; nobody need be waiting on this one.
    this.written.catch(() => undefined);
  }

  /** Whether an object of `size` listed bytes may still join. */
  fits(size: number): boolean {
    return (
      !this.closed && (this.members.length === 0 || this.plannedBytes + size <= this.settings.targetBytes)
    );
  }

  /** Adds the member at `index` (indices must increase). */
  add(index: number, size: number): void {
    if (this.closed) throw new Error(`Pack ${this.key} is closed`);
    this.members.push(index);
    this.plannedBytes += size;
  }

  /** Records a member's outcome; writes the pack if it was the last one awaited. */
  settle(index: number, outcome: MemberOutcome): void {
    this.outcomes.set(index, outcome);
    this.flushIfComplete();
  }

  /** A member failed: the pack is not written (its members are copied again by a later call). */
  fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.rejectWritten(error);
  }

  /** No more members: the pack is written as soon as every member settled. */
  close(): void {
    this.closed = true;
    this.flushIfComplete();
  }

  private flushIfComplete(): void {
    if (this.finished || !this.closed || this.outcomes.size < this.members.length) return;
    this.finished = true;
    this.flush().then(this.resolveWritten, this.rejectWritten);
  }

  private async flush(): Promise<PackResult> {
    const result = new Map<number, { entry: ManifestEntry } | { vanished: true }>();
    const messages: Buffer[] = [];
    let offset = 0;
    for (const index of this.members) {
      const outcome = this.outcomes.get(index)!;
      if (outcome === 'vanished') {
        result.set(index, { vanished: true });
      } else if (isSealed(outcome)) {
        result.set(index, { entry: packedEntry(outcome, this.key, offset) });
        messages.push(outcome.message);
        offset += outcome.message.length;
      } else {
        result.set(index, { entry: outcome });
      }
    }
    if (messages.length)
      await this.write(messages.length === 1 ? messages[0]! : Buffer.concat(messages, offset));
    return result;
  }
}
