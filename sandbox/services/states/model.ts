/**
 * The records the Step Functions emulation keeps, and what running executions may reach.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AccessCheck } from '../../core/access/checks.ts';
import type { Denial } from '../../core/access/denials.ts';
import type { LambdaService } from '../lambda/index.ts';
import type { PreparedMachine } from './definition.ts';
import type { HistoryLog } from './history.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface StateMachineRecord {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly region: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  readonly creationDate: Date;
  definition: string;
  roleArn: string;
  loggingConfiguration: Record<string, unknown>;
  tracingConfiguration: Record<string, unknown>;
  description?: string;
  revisionId: string;
  updateDate?: Date;
  /** The definition rewritten for the interpreter, redone when the definition changes. */
  prepared: PreparedMachine;
}

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  readonly region: string;
  /** Input as JSON text, exactly as given. */
  readonly input: string;
  /** Set as the run begins, when the interpreter stamps `$$.Execution.StartTime`. */
  startDate: Date;
  readonly roleArn: string;
  /** The definition this execution runs (DescribeStateMachineForExecution). */
  readonly definition: string;
  /** Set on the child executions of a Distributed Map. */
  readonly mapRunArn?: string;
  /**
   * The execution that started this one, from the `AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`
   * field of its input (the association AWS's console links from; the API shows it only there).
   */
  readonly startedBy?: string;
  readonly history: HistoryLog;
  status: ExecutionStatus;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  /** Resolves when the execution has ended and its history is complete. */
  done: Promise<void>;
  /** Aborts a running execution (StopExecution). */
  stop(error?: string, cause?: string): void;
}

export interface ItemCounts {
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  aborted: number;
  total: number;
  resultsWritten: number;
}

export interface MapRunRecord {
  readonly mapRunArn: string;
  readonly executionArn: string;
  /** The child state machine, `…:stateMachine:<parent>/<label>`. */
  readonly stateMachineArn: string;
  readonly startDate: Date;
  readonly maxConcurrency: number;
  readonly toleratedFailurePercentage: number;
  readonly toleratedFailureCount: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  stopDate?: Date;
  readonly itemCounts: ItemCounts;
  readonly executionCounts: ItemCounts;
}

/** StartExecution's parameters, for callers inside the sandbox (Scheduler, nested executions). */
export interface StartExecutionRequest {
  readonly stateMachineArn: string;
  readonly name?: string;
  /** JSON text. @default '{}' */
  readonly input?: string;
}

/** Who an execution's own calls come from: its state machine's role, in a session named after it. */
export interface ExecutionIdentity {
  readonly roleArn: string;
  /** The top-level state machine's name (a Distributed Map child's `parent/label` counts as `parent`). */
  readonly stateMachineName: string;
}

/** What running executions can reach: the other services and the store of records. */
export interface Engine {
  readonly accountId: string;
  /** Multiplies Wait durations and Retry intervals (tests use e.g. 0.01). */
  readonly timeScale: number;
  /** Upper bound on concurrently running Distributed Map children. */
  readonly maxChildConcurrency: number;
  lambda(): LambdaService | undefined;
  /** An S3 client; with an identity, it calls as the state machine's role, over HTTPS. */
  s3(region: string, identity?: ExecutionIdentity): S3Client;
  /** An SNS client; with an identity, it calls as the state machine's role, over HTTPS. */
  sns(region: string, identity?: ExecutionIdentity): SNSClient;
  /**
   * Decides a call the execution makes in process (invoke a function, start a child) with its
   * role: the denial when IAM refuses it and enforcement is on, undefined otherwise (a role no
   * template deployed is not evaluated).
   */
  authorize(
    identity: ExecutionIdentity,
    checks: readonly AccessCheck[],
    operation: string,
    region: string,
  ): Denial | undefined;
  /** Makes a (child) execution visible to Describe/List/Stop. */
  addExecution(record: ExecutionRecord): void;
  /** StartExecution as the API does it (validation, name idempotency); throws its AwsErrors. */
  startExecution(request: StartExecutionRequest): { executionArn: string; startDate: Date };
  /** The record of an execution, or undefined. */
  execution(executionArn: string): ExecutionRecord | undefined;
  addMapRun(record: MapRunRecord): void;
}
