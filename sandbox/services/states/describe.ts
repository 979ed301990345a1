/**
 * An execution as DescribeExecution describes it, in the two spellings the sandbox needs: the
 * API's redrive fields, and the document the `states:startExecution.sync` integrations return
 * (the DescribeExecution response with PascalCase keys in alphabetical order and dates in epoch
 * milliseconds, as the Java SDK behind Step Functions serializes it).
 */
import type { ExecutionRecord } from './model.ts';

/** DescribeExecution's redrive fields. Redrive itself is not emulated, so the count stays 0. */
export function redrive(record: ExecutionRecord): {
  redriveCount: number;
  redriveStatus: string;
  redriveStatusReason?: string;
} {
  if (record.status === 'RUNNING' || record.status === 'SUCCEEDED') {
    return {
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: `Execution is ${record.status} and cannot be redriven`,
    };
  }
  // A Distributed Map's child is redriven through its Map Run, never on its own.
  return { redriveCount: 0, redriveStatus: record.mapRunArn ? 'REDRIVABLE_BY_MAP_RUN' : 'REDRIVABLE' };
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The result of a `.sync` (payloads as JSON text) or `.sync:2` (`parsePayloads`: payloads as JSON
 * values) nested execution, and the cause of its failure.
 */
export function executionDocument(record: ExecutionRecord, parsePayloads: boolean): Record<string, unknown> {
  const payload = (text: string) => (parsePayloads ? parsed(text) : text);
  const { redriveCount, redriveStatus, redriveStatusReason } = redrive(record);
  const fields: Record<string, unknown> = {
    ExecutionArn: record.executionArn,
    Input: payload(record.input),
    InputDetails: { Included: true },
    Name: record.name,
    RedriveCount: redriveCount,
    RedriveStatus: redriveStatus,
    StartDate: record.startDate.getTime(),
    StateMachineArn: record.stateMachineArn,
    Status: record.status,
    ...(redriveStatusReason !== undefined ? { RedriveStatusReason: redriveStatusReason } : {}),
    ...(record.mapRunArn !== undefined ? { MapRunArn: record.mapRunArn } : {}),
    ...(record.output !== undefined
      ? { Output: payload(record.output), OutputDetails: { Included: true } }
      : {}),
    ...(record.error !== undefined ? { Error: record.error } : {}),
    ...(record.cause !== undefined ? { Cause: record.cause } : {}),
    ...(record.stopDate !== undefined ? { StopDate: record.stopDate.getTime() } : {}),
  };
  return Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
