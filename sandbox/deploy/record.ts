/**
 * What a deployment created, kept in `<dataDir>/deploy/<stack name>.json` so that deploying the
 * same stack again into the same data directory reuses the physical names (as a CloudFormation
 * stack update does) instead of creating a second set of everything.
 */
import { join } from 'node:path';
import { readStateFile, writeStateFile } from '../core/state-file.ts';

export interface RecordedResource {
  readonly type: string;
  readonly ref: string;
  readonly physicalName?: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface DeploymentRecord {
  readonly stackName: string;
  readonly region: string;
  readonly resources: Readonly<Record<string, RecordedResource>>;
}

function recordFile(dataDir: string, stackName: string): string {
  return join(dataDir, 'deploy', `${stackName}.json`);
}

export function readRecord(dataDir: string, stackName: string): DeploymentRecord | undefined {
  const stored = readStateFile(recordFile(dataDir, stackName)) as DeploymentRecord | undefined;
  return stored?.stackName === stackName ? stored : undefined;
}

export function writeRecord(dataDir: string, record: DeploymentRecord): void {
  writeStateFile(recordFile(dataDir, record.stackName), record);
}
