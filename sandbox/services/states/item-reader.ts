/**
 * Distributed Map ItemReader: items from an S3 object (a JSON array, JSON Lines or CSV) or from an
 * S3 listing, read through the sandbox's S3 API as Step Functions would. Failures become
 * States.ItemReaderFailed.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { StatesError } from './paths.ts';

export interface ReaderConfig {
  readonly InputType?: string;
  readonly CSVHeaderLocation?: 'FIRST_ROW' | 'GIVEN';
  readonly CSVHeaders?: readonly string[];
  readonly CSVDelimiter?: 'COMMA' | 'PIPE' | 'SEMICOLON' | 'SPACE' | 'TAB';
  readonly MaxItems?: number;
}

export interface ItemSource {
  /** `arn:aws:states:::s3:getObject` or `arn:aws:states:::s3:listObjectsV2`. */
  readonly resource: string;
  /** The evaluated Parameters: Bucket, Key or Prefix, and the like. */
  readonly parameters: Record<string, unknown>;
  readonly config: ReaderConfig;
  /** Items to read at most (MaxItems / MaxItemsPath), 0 for all. */
  readonly maxItems: number;
}

const DELIMITERS: Readonly<Record<string, string>> = {
  COMMA: ',',
  PIPE: '|',
  SEMICOLON: ';',
  SPACE: ' ',
  TAB: '\t',
};

function readerFailed(message: string): StatesError {
  return new StatesError('States.ItemReaderFailed', message);
}

/** Splits CSV text into rows of fields (RFC 4180: quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"' && field.length === 0) {
      quoted = true;
    } else if (ch === delimiter) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += ch;
    }
  }
  if (field.length > 0 || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function csvItems(text: string, config: ReaderConfig): Record<string, string>[] {
  const rows = parseCsv(text, DELIMITERS[config.CSVDelimiter ?? 'COMMA'] ?? ',');
  let headers: readonly string[];
  if (config.CSVHeaderLocation === 'GIVEN') {
    if (!config.CSVHeaders || config.CSVHeaders.length === 0) {
      throw readerFailed('ReaderConfig.CSVHeaders is required when CSVHeaderLocation is GIVEN');
    }
    headers = config.CSVHeaders;
  } else {
    const first = rows.shift();
    if (!first) return [];
    headers = first;
  }
  return rows.map((fields) =>
    Object.fromEntries(headers.map((header, index) => [header, fields[index] ?? ''])),
  );
}

function parseItems(text: string, config: ReaderConfig, where: string): unknown[] {
  const type = config.InputType ?? 'JSON';
  if (type === 'CSV') return csvItems(text, config);
  if (type === 'JSONL') {
    return text
      .split(/\r?\n/)
      .filter((line) => line.trim().length > 0)
      .map((line, index) => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          throw readerFailed(`Line ${index + 1} of ${where} is not valid JSON`);
        }
      });
  }
  if (type !== 'JSON') throw readerFailed(`The sandbox does not emulate ItemReader InputType ${type}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw readerFailed(`${where} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw readerFailed(`${where} does not contain a JSON array`);
  return parsed;
}

async function getObjectItems(s3: S3Client, source: ItemSource): Promise<unknown[]> {
  const { Bucket, Key, VersionId } = source.parameters as {
    Bucket?: unknown;
    Key?: unknown;
    VersionId?: unknown;
  };
  if (typeof Bucket !== 'string' || typeof Key !== 'string') {
    throw readerFailed('ItemReader Parameters for s3:getObject need a Bucket and a Key');
  }
  const response = await s3.send(
    new GetObjectCommand({ Bucket, Key, ...(typeof VersionId === 'string' ? { VersionId } : {}) }),
  );
  const text = (await response.Body?.transformToString('utf-8')) ?? '';
  return parseItems(text, source.config, `s3://${Bucket}/${Key}`);
}

async function listObjectItems(s3: S3Client, source: ItemSource): Promise<unknown[]> {
  const { Bucket, Prefix, ...rest } = source.parameters as { Bucket?: unknown; Prefix?: unknown } & Record<
    string,
    unknown
  >;
  if (typeof Bucket !== 'string')
    throw readerFailed('ItemReader Parameters for s3:listObjectsV2 need a Bucket');
  const items: unknown[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        ...(rest as Record<string, never>),
        Bucket,
        ...(typeof Prefix === 'string' ? { Prefix } : {}),
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      items.push({
        Etag: object.ETag,
        Key: object.Key,
        LastModified: object.LastModified ? Math.floor(object.LastModified.getTime() / 1000) : undefined,
        Size: object.Size,
        StorageClass: object.StorageClass ?? 'STANDARD',
      });
      if (source.maxItems > 0 && items.length >= source.maxItems) return items;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return items;
}

/** Reads the items an ItemReader names. */
export async function readItems(s3: S3Client, source: ItemSource): Promise<unknown[]> {
  const action = /^arn:aws[\w-]*:states:::s3:(\w+)$/.exec(source.resource)?.[1];
  try {
    let items: unknown[];
    if (action === 'getObject') items = await getObjectItems(s3, source);
    else if (action === 'listObjectsV2') items = await listObjectItems(s3, source);
    else throw readerFailed(`The sandbox does not emulate the ItemReader resource ${source.resource}`);
    return source.maxItems > 0 ? items.slice(0, source.maxItems) : items;
  } catch (error) {
    if (error instanceof StatesError) throw error;
    const failure = error as Error;
    throw readerFailed(`${failure.name}: ${failure.message}`);
  }
}
