/**
 * The alert contract: what a flow or function hands to `notify`. Shared with the report
 * function and the state machines, which build alerts in their Catch branches.
 */
import * as z from 'zod';

/** Alert severities, in increasing order of urgency. Sent as the SNS `severity` attribute. */
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The flows (and scheduled jobs) an alert can come from. Sent as the SNS `flow` attribute. */
export const FLOWS = [
  'RoutineMaintenance',
  'Cleanup',
  'Update',
  'DisasterRecovery',
  'HealthCheck',
  'Backup',
  'Report',
] as const;
export type FlowName = (typeof FLOWS)[number];

export const alertSchema = z
  .object({
    severity: z.enum(SEVERITIES),
    flow: z.enum(FLOWS),
    /** What happened, one line. Becomes the subject. */
    summary: z.string().trim().min(1).max(1000),
    /** Where it happened: resource identifiers, bucket/prefix, endpoint. */
    where: z.string().trim().min(1).max(2000),
    /** What the reader should do now. */
    action: z.string().trim().min(1).max(2000),
    /** Longer explanation or evidence, free text. */
    details: z.string().max(100_000).optional(),
    /** The Step Functions execution this alert is about; becomes a console link. */
    executionArn: z
      .string()
      .regex(
        /^arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[\w-]+:[\w.-]+$/,
        'expected a Step Functions execution ARN',
      )
      .optional(),
    /** Structured evidence (measured values, error names) appended to the body as JSON. */
    evidence: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type Alert = z.output<typeof alertSchema>;
