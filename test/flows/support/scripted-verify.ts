/**
 * backup-verify fanned out: `plan` splits `parts` parts into ranges of one, each `range` call
 * verifies its range (`callsPerRange` calls each), `finish` adds the ranges up.
 */
export function scriptedVerify(parts = 2, callsPerRange = 1) {
  return (event: Record<string, any>) => {
    if (event.step === 'plan') {
      return {
        set: event.set,
        backupId: event.backupId,
        subset: 'all',
        manifestSha256: 'a'.repeat(64),
        startedAt: '2026-01-02T03:04:05.000Z',
        chainLinks: 0,
        parts,
        items: Array.from({ length: parts }, (_, from) => ({ from, to: from + 1 })),
      };
    }
    if (event.step === 'range') {
      const calls = (event.cursor?.calls ?? 0) + 1;
      if (calls < callsPerRange) return { done: false, cursor: { calls } };
      const summary = { from: event.from, to: event.to, entriesChecked: 2, objectsRead: 2, bytesRead: 20 };
      return { done: true, summary: { ...summary, problemCount: 0, problems: [] } };
    }
    const objects = (event.results as { objectsRead: number }[]).reduce((sum, r) => sum + r.objectsRead, 0);
    return { done: true, ok: true, subset: event.subset, objectsChecked: objects };
  };
}
