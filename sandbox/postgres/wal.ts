/**
 * WAL segment file names (timeline, log id, segment, 8 hex digits each).
 */

/** Whether a pg_wal entry is a WAL segment file. */
export function isSegment(name: string): boolean {
  return /^[0-9A-F]{24}$/.test(name);
}

/** The absolute segment number of a WAL file name. */
export function segmentNumber(name: string, segmentBytes: number): number {
  const log = Number.parseInt(name.slice(8, 16), 16);
  const seg = Number.parseInt(name.slice(16, 24), 16);
  return log * (0x1_0000_0000 / segmentBytes) + seg;
}

/** The WAL file name of absolute segment `segment` on the timeline of `sample`. */
export function walFileName(sample: string, segment: number, segmentBytes: number): string {
  const perLog = 0x1_0000_0000 / segmentBytes;
  const hex = (value: number) => value.toString(16).toUpperCase().padStart(8, '0');
  return `${sample.slice(0, 8)}${hex(Math.floor(segment / perLog))}${hex(segment % perLog)}`;
}
