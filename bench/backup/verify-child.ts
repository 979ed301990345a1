/**
 * bench:backup's fanned-out verification, in a process of its own: loads the real backup-verify
 * handler and runs it as the Backup flow's VerifyParts does — `plan`, then every range call after
 * call with `BENCH_VERIFY_CHILDREN` (default 4) children at once (the Distributed Map's
 * MaxConcurrency), then `finish` — and prints one JSON line.
 *
 *   node --import tsx bench/backup/verify-child.ts '{"set":"…","backupId":"…","partsPerItem":10}'
 */
export interface VerifyTask {
  readonly set: string;
  readonly backupId: string;
  readonly partsPerItem: number;
}

export interface VerifyReport {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly parts: number;
  readonly items: number;
  readonly rangeCalls: number;
  readonly objectsChecked: number;
}

const task = JSON.parse(process.argv[2] ?? '{}') as VerifyTask;
const children = Math.max(1, Number(process.env.BENCH_VERIFY_CHILDREN ?? 4));
const { handler } = await import('../../functions/backup-verify/handler.ts');
const context = (deadline = Date.now() + 15 * 60_000) => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'caretaker-backup-verify',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:caretaker-backup-verify',
  memoryLimitInMB: '2048',
  awsRequestId: 'bench',
  logGroupName: '/aws/lambda/caretaker-backup-verify',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => deadline - Date.now(),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});
/** The parts of backup-verify's replies (plan, range, finish) this driver reads. */
interface PlanReply {
  readonly items: readonly { from: number; to: number }[];
  readonly set: string;
  readonly backupId: string;
  readonly subset: unknown;
  readonly manifestSha256: string;
  readonly startedAt: string;
  readonly chainLinks: unknown;
  readonly parts: number;
}
interface RangeReply {
  readonly done: boolean;
  readonly cursor: unknown;
  readonly summary: unknown;
}
interface FinishReply {
  readonly objectsChecked: number;
}
const call = <Reply>(event: object) => handler(event, context()) as unknown as Promise<Reply>;

const started = performance.now();
const cpuStart = process.cpuUsage();
const plan = await call<PlanReply>({ step: 'plan', executionId: 'bench', ...task });
const items = [...plan.items];
const results: unknown[] = new Array(items.length);
let rangeCalls = 0;
let next = 0;
await Promise.all(
  Array.from({ length: children }, async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index]!;
      let outcome: RangeReply;
      let cursor: unknown = null;
      do {
        outcome = await call<RangeReply>({
          step: 'range',
          set: plan.set,
          backupId: plan.backupId,
          subset: plan.subset,
          manifestSha256: plan.manifestSha256,
          from: item.from,
          to: item.to,
          cursor,
          executionId: 'bench',
        });
        rangeCalls++;
        cursor = outcome.cursor;
      } while (!outcome.done);
      results[index] = outcome.summary;
    }
  }),
);
const finish = await call<FinishReply>({
  step: 'finish',
  set: plan.set,
  backupId: plan.backupId,
  subset: plan.subset,
  manifestSha256: plan.manifestSha256,
  startedAt: plan.startedAt,
  chainLinks: plan.chainLinks,
  results,
  executionId: 'bench',
});
const cpu = process.cpuUsage(cpuStart);
const report: VerifyReport = {
  wallMs: performance.now() - started,
  cpuMs: (cpu.user + cpu.system) / 1000,
  parts: plan.parts,
  items: items.length,
  rangeCalls,
  objectsChecked: finish.objectsChecked,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
