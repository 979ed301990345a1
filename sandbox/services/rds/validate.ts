/**
 * RDS's rules for identifiers, names and passwords, with its error wording.
 */
import { invalidParameterValue } from './errors.ts';

const IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]*$/;

/**
 * An instance, cluster or snapshot identifier: letters, digits and hyphens, starting with a
 * letter, no trailing or double hyphen. RDS stores identifiers in lower case.
 */
export function identifier(value: string, parameter: string, maxLength = 63): string {
  const id = value.toLowerCase();
  if (id.length > maxLength || !IDENTIFIER.test(id) || id.endsWith('-')) {
    throw invalidParameterValue(
      `The parameter ${parameter} is not a valid identifier. Identifiers must begin with a letter; ` +
        'must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.',
    );
  }
  return id;
}

/** A snapshot identifier given by a caller (automated `rds:` names are RDS's own). */
export function snapshotIdentifier(value: string, parameter: string): string {
  return identifier(value, parameter, 255);
}

export function masterUsername(value: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(value)) {
    throw invalidParameterValue(
      'The parameter MasterUsername is not a valid identifier. Identifiers must begin with a letter; ' +
        'must contain only ASCII letters, digits, and underscores; and must be 1 to 63 characters long.',
    );
  }
  if (['rdsadmin', 'postgres_rds', 'rds_superuser', 'public'].includes(value.toLowerCase())) {
    throw invalidParameterValue(
      `MasterUsername ${value} cannot be used as it is a reserved word used by the engine`,
    );
  }
  return value;
}

export function masterPassword(value: string): string {
  // Printable ASCII except '/', '"', '@' and space.
  if (value.length < 8 || value.length > 128 || !/^[\x21-\x7e]+$/.test(value) || /[/"@]/.test(value)) {
    throw invalidParameterValue(
      "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used, and it must be 8 to 128 characters long.",
    );
  }
  return value;
}

export function databaseName(value: string, parameter: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(value)) {
    throw invalidParameterValue(
      `The parameter ${parameter} must begin with a letter and contain only alphanumeric characters and underscores (1 to 63).`,
    );
  }
  if (['template0', 'template1', 'rdsadmin'].includes(value.toLowerCase())) {
    throw invalidParameterValue(
      `${parameter} ${value} cannot be used as it is a reserved word used by the engine`,
    );
  }
  return value;
}

export function instanceClass(value: string, parameter = 'DBInstanceClass'): string {
  if (!/^db\.[a-z0-9-]+\.[a-z0-9]+$/.test(value)) {
    throw invalidParameterValue(`Invalid ${parameter}: ${value}`);
  }
  return value;
}

export function engineVersion(value: string): string {
  if (!/^\d+(\.\d+){0,2}$/.test(value)) {
    throw invalidParameterValue(`Invalid engine version: ${value}`);
  }
  return value;
}

/** MaxRecords: 20 to 100, default 100. */
export function maxRecords(value: number | undefined): number {
  if (value === undefined) return 100;
  if (value < 20 || value > 100) {
    throw invalidParameterValue(`Invalid value ${value} for MaxRecords. Must be between 20 and 100`);
  }
  return value;
}
