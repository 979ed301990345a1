/**
 * Bounded concurrency for streaming work: at most `slots` tasks at once, and at most `capacity`
 * units of weight (bytes of buffer memory) in flight, so many small objects run side by side
 * while a few large ones cannot exhaust memory.
 */

/** Runs tasks with a slot limit and a weight limit; `settle()` waits for all and reports errors. */
export class WorkPool {
  private running = 0;
  private weight = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly tasks = new Set<Promise<void>>();
  private readonly errors: unknown[] = [];

  constructor(
    private readonly slots: number,
    private readonly capacity: number,
  ) {
    if (!(slots >= 1) || !(capacity > 0))
      throw new Error('WorkPool needs at least one slot and some capacity');
  }

  /** The first error a task threw, if any (later tasks keep running until `settle`). */
  get failed(): boolean {
    return this.errors.length > 0;
  }

  /** Tasks started and not yet finished. */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Waits until the task fits, then starts it. A task heavier than the whole capacity runs alone.
   * Resolves when the task has *started*.
   */
  async start(weight: number, task: () => Promise<void>): Promise<void> {
    const cost = Math.min(weight, this.capacity);
    while (this.running >= this.slots || (this.running > 0 && this.weight + cost > this.capacity)) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    this.weight += cost;
    const run: Promise<void> = task()
      .catch((error: unknown) => {
        this.errors.push(error);
      })
      .finally(() => {
        this.running--;
        this.weight -= cost;
        this.tasks.delete(run);
        for (const wake of this.waiting.splice(0)) wake();
      });
    this.tasks.add(run);
  }

  /** Waits for every started task; throws the first error any of them threw. */
  async settle(): Promise<void> {
    while (this.tasks.size) await Promise.all([...this.tasks]);
    if (this.errors.length) throw this.errors[0];
  }
}

export { mapLimited } from '../runtime/map-limited.ts';
