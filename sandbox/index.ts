/**
 * The Caretaker sandbox (DESIGN §9): a local AWS endpoint on 127.0.0.1 for rehearsals and tests.
 * Each service registers here; `startDefaultSandbox` runs all of them.
 */
import type { IamSettings } from './core/access/access-control.ts';
import { type Sandbox, type SandboxOptions, type ServiceFactory, startSandbox } from './core/server.ts';
import { iamRegistryService } from './iam-registry/index.ts';
import { cloudWatchService } from './services/cloudwatch/index.ts';
import { kmsService } from './services/kms/index.ts';
import { lambdaService } from './services/lambda/index.ts';
import { logsService } from './services/logs/index.ts';
import { rdsService } from './services/rds/index.ts';
import { s3Service } from './services/s3/index.ts';
import { schedulerService } from './services/scheduler/index.ts';
import { snsService } from './services/sns/index.ts';
import { sqsService } from './services/sqs/index.ts';
import { statesService } from './services/states/index.ts';

/** Every emulated service, in start order (a service may look up one listed before it). */
export const DEFAULT_SERVICES: readonly ServiceFactory[] = [
  s3Service,
  kmsService,
  snsService,
  sqsService,
  rdsService,
  lambdaService,
  statesService,
  schedulerService,
  cloudWatchService,
  logsService,
  iamRegistryService,
];

/**
 * Starts the sandbox with every service, enforcing IAM (`settings.iam.enforcement: 'enforce'`)
 * unless the settings say otherwise: what `caretaker sandbox up` and the drill run. `startSandbox`
 * alone only reports denials, for emulator tests whose hand-made roles carry no policies.
 */
export function startDefaultSandbox(options: Omit<SandboxOptions, 'services'> = {}): Promise<Sandbox> {
  const iam = { enforcement: 'enforce', ...(options.settings?.iam as IamSettings | undefined) };
  return startSandbox({ ...options, settings: { ...options.settings, iam }, services: DEFAULT_SERVICES });
}

export type { EnforcementMode, IamSettings } from './core/access/access-control.ts';
export type { Denial, DenialOrigin } from './core/access/denials.ts';
export type { Sandbox, SandboxContext, SandboxOptions, ServiceFactory } from './core/server.ts';
