/**
 * The S3 sandbox's state: buckets, object versions (bodies are files under the data directory),
 * multipart uploads. Plain data, so it can be saved as JSON.
 */
import type { ChecksumAlgorithm, ChecksumType, StoredChecksum } from './checksums.ts';
import type { SortedKeys } from './sorted-keys.ts';

export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

export interface Encryption {
  /** AES256, aws:kms or aws:kms:dsse. */
  readonly algorithm: string;
  readonly kmsKeyId?: string;
  readonly context?: string;
  readonly bucketKeyEnabled?: boolean;
}

/** The headers stored with an object and returned on GET/HEAD. */
export interface ObjectHeaders {
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly contentLanguage?: string;
  readonly contentDisposition?: string;
  readonly cacheControl?: string;
  readonly expires?: string;
  readonly websiteRedirectLocation?: string;
  /** `x-amz-meta-*` headers, by lower-case name without the prefix. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly storageClass: string;
  readonly encryption: Encryption;
}

/** A stretch of an object's body: one file (a multipart object has one per part). */
export interface Segment {
  /** File name under the objects directory. */
  readonly file: string;
  readonly size: number;
  /** The part's own checksum (base64), for GET ?partNumber with checksum mode. */
  readonly checksum?: string;
}

export interface ObjectVersion {
  /** `null` for objects written while versioning was never enabled or is suspended. */
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly lastModified: number;
  readonly size: number;
  /** Quoted, as in the ETag header. */
  readonly etag: string;
  readonly segments: readonly Segment[];
  /** Completed by CompleteMultipartUpload (its ETag ends in -<parts>). */
  readonly multipart: boolean;
  readonly headers: ObjectHeaders;
  tags: readonly Tag[];
  readonly checksum?: StoredChecksum;
}

export interface Part {
  readonly partNumber: number;
  readonly file: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: number;
  /** Raw checksum digest (base64) under the upload's algorithm, or the one the client sent. */
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly value: string };
}

export interface Upload {
  readonly uploadId: string;
  readonly key: string;
  readonly initiated: number;
  readonly headers: ObjectHeaders;
  readonly tags: readonly Tag[];
  readonly checksumAlgorithm?: ChecksumAlgorithm;
  readonly checksumType?: ChecksumType;
  readonly parts: Map<number, Part>;
}

export type Versioning = 'Enabled' | 'Suspended';

export interface Bucket {
  readonly name: string;
  readonly region: string;
  readonly createdAt: number;
  versioning?: Versioning;
  encryption?: Encryption;
  /** Versions per key, newest first. */
  readonly objects: Map<string, ObjectVersion[]>;
  readonly keys: SortedKeys;
  readonly uploads: Map<string, Upload>;
}

/** The canonical user the sandbox account appears as. */
export const OWNER = {
  ID: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a',
  DisplayName: 'sandbox',
} as const;

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
