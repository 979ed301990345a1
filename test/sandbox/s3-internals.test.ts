/**
 * The S3 emulation's pure parts: the aws-chunked decoder, CRC combination, key order, ranges.
 */
import { crc32 } from 'node:zlib';
import { crc32c } from '@aws-crypto/crc32c';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AwsError } from '../../sandbox/core/types.ts';
import { AwsChunkedDecoder } from '../../sandbox/services/s3/aws-chunked.ts';
import { combineCrcs, compositeChecksum, digestOf } from '../../sandbox/services/s3/checksums.ts';
import { parseRange } from '../../sandbox/services/s3/conditions.ts';
import { compareKeys, SortedKeys } from '../../sandbox/services/s3/sorted-keys.ts';

function decode(body: Buffer, pieceSize: number): { data: Buffer; trailers: Map<string, string> } {
  const received: Buffer[] = [];
  const decoder = new AwsChunkedDecoder((data) => received.push(Buffer.from(data)));
  for (let offset = 0; offset < body.length; offset += pieceSize)
    decoder.push(body.subarray(offset, offset + pieceSize));
  decoder.end();
  return { data: Buffer.concat(received), trailers: decoder.trailers };
}

function encode(data: Buffer, chunkSize: number, trailer?: string): Buffer {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    const chunk = data.subarray(offset, offset + chunkSize);
    pieces.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`0\r\n${trailer ? `${trailer}\r\n` : ''}\r\n`));
  return Buffer.concat(pieces);
}

function codeOf(action: () => void): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof AwsError ? error.code : String(error);
  }
  return undefined;
}

describe('AwsChunkedDecoder', () => {
  it('decodes the same bytes however the body is split on the wire', () => {
    const data = Buffer.from(Array.from({ length: 20000 }, (_, index) => index % 251));
    const body = encode(data, 8192, 'x-amz-checksum-crc32:AAAAAA==');
    for (const pieceSize of [1, 2, 3, 7, 100, 8191, 8194, body.length]) {
      const decoded = decode(body, pieceSize);
      expect(decoded.data.equals(data)).toBe(true);
      expect(decoded.trailers.get('x-amz-checksum-crc32')).toBe('AAAAAA==');
    }
  });

  it('reads chunk signatures and trailer signatures of signed bodies', () => {
    const body = Buffer.from(
      `5;chunk-signature=${'a'.repeat(64)}\r\nhello\r\n0;chunk-signature=${'b'.repeat(64)}\r\n` +
        `x-amz-checksum-sha256:abc=\r\nx-amz-trailer-signature:${'c'.repeat(64)}\r\n\r\n`,
    );
    const decoded = decode(body, 13);
    expect(decoded.data.toString()).toBe('hello');
    expect(decoded.trailers.get('x-amz-checksum-sha256')).toBe('abc=');
  });

  it('accepts a body that ends right after the last trailer line', () => {
    const decoded = decode(Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n'), 4);
    expect(decoded.trailers.get('x-amz-checksum-crc32')).toBe('AAAAAA==');
  });

  it('refuses a chunk under 8 KiB that is not the last', () => {
    const body = Buffer.from('3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n');
    expect(codeOf(() => decode(body, body.length))).toBe('InvalidChunkSizeError');
  });

  it('refuses a body that ends before the final chunk', () => {
    expect(codeOf(() => decode(Buffer.from('5\r\nhel'), 3))).toBe('IncompleteBody');
  });

  it('refuses a size line that is not hexadecimal', () => {
    expect(codeOf(() => decode(Buffer.from('zz\r\n'), 4))).toBe('IncompleteBody');
  });

  it('refuses chunk data not followed by CRLF', () => {
    expect(codeOf(() => decode(Buffer.from('3\r\nabcX\r\n0\r\n\r\n'), 20))).toBe('IncompleteBody');
  });
});

describe('checksums', () => {
  it('combines per-part CRC32 and CRC32C values into the whole-body CRC', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.array(fc.nat(3000), { maxLength: 4 }),
        (bytes, cuts) => {
          const data = Buffer.from(bytes);
          const bounds = [...new Set([0, ...cuts.map((cut) => cut % (data.length + 1)), data.length])].sort(
            (a, b) => a - b,
          );
          const parts = bounds.slice(1).map((end, index) => data.subarray(bounds[index]!, end));
          for (const [algorithm, whole] of [
            ['CRC32', crc32(data) >>> 0],
            ['CRC32C', crc32c(data) >>> 0],
          ] as const) {
            const combined = combineCrcs(
              algorithm,
              parts.map((part) => ({ digest: digestOf(algorithm, part), size: part.length })),
            );
            expect(combined.readUInt32BE(0)).toBe(whole);
          }
        },
      ),
    );
  });

  it('computes a composite checksum as the checksum of part checksums with a part count', () => {
    const parts = [Buffer.from('part one'), Buffer.from('part two')];
    const digests = parts.map((part) => digestOf('SHA256', part));
    const expected = digestOf('SHA256', Buffer.concat(digests)).toString('base64');
    expect(compositeChecksum('SHA256', digests)).toBe(`${expected}-2`);
  });
});

describe('key order', () => {
  it('agrees with UTF-8 byte order', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
    );
  });

  it('matches a sorted set through any sequence of inserts, removals and reads', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), key: fc.string({ maxLength: 3 }) }),
      fc.record({ kind: fc.constant('remove' as const), key: fc.string({ maxLength: 3 }) }),
      fc.record({ kind: fc.constant('read' as const), key: fc.constant('') }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
        const keys = new SortedKeys();
        const model = new Set<string>();
        for (const { kind, key } of operations) {
          if (kind === 'insert') {
            keys.insert(key);
            model.add(key);
          } else if (kind === 'remove') {
            keys.remove(key);
            model.delete(key);
          } else {
            expect(keys.length).toBe(model.size);
          }
        }
        const listed = Array.from({ length: keys.length }, (_, index) => keys.at(index));
        expect(listed).toEqual([...model].sort(compareKeys));
      }),
    );
  });

  it('keeps keys sorted and unique through inserts and removals', () => {
    const keys = new SortedKeys();
    for (const key of ['b', 'a', 'c', 'a', 'ab']) keys.insert(key);
    keys.remove('c');
    expect(Array.from({ length: keys.length }, (_, index) => keys.at(index))).toEqual(['a', 'ab', 'b']);
    expect(keys.endOfPrefix('a', keys.lowerBound('a'))).toBe(2);
  });
});

describe('parseRange', () => {
  it.each([
    ['bytes=0-4', 10, { start: 0, end: 4 }],
    ['bytes=5-', 10, { start: 5, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-30', 10, { start: 0, end: 9 }],
    ['bytes=8-100', 10, { start: 8, end: 9 }],
    ['bytes=5-2', 10, undefined],
    ['bytes=0-1,3-4', 10, undefined],
    ['items=0-1', 10, undefined],
  ])('parses %s of a %i-byte object', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it.each([
    ['bytes=10-', 10],
    ['bytes=-0', 10],
    ['bytes=0-', 0],
  ])('refuses the unsatisfiable %s of a %i-byte object with InvalidRange', (header, size) => {
    expect(codeOf(() => parseRange(header, size))).toBe('InvalidRange');
  });
});
