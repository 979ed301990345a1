/**
 * Decoder for `Content-Encoding: aws-chunked` bodies (SigV4 streaming): `<hex size>[;chunk-signature=…]\r\n`
 * then the data and `\r\n`, repeated, a zero-size chunk, then trailer lines (`x-amz-checksum-crc32:…`)
 * and an empty line. Data is handed on as views of the received buffers, never copied.
 *
 * Like S3, every chunk but the last must hold at least 8 KiB (InvalidChunkSizeError). Chunk
 * signatures are not verified: the sandbox accepts any credentials.
 */
import { s3Errors } from './errors.ts';

const MIN_CHUNK_BYTES = 8192;
const MAX_LINE_BYTES = 4096;
const CR = 13;
const LF = 10;
const HEX_SIZE = /^[0-9a-fA-F]{1,16}$/;

type State = 'size' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'done';

export class AwsChunkedDecoder {
  /** Trailer headers by lower-case name, e.g. `x-amz-checksum-crc32`. */
  readonly trailers = new Map<string, string>();
  private state: State = 'size';
  private readonly line = Buffer.allocUnsafe(MAX_LINE_BYTES);
  private lineLength = 0;
  private remaining = 0;
  private chunks = 0;
  private previousSize = -1;

  constructor(private readonly onData: (data: Buffer) => void) {}

  /** Feeds the next piece of the raw body. Throws an AwsError when the framing is invalid. */
  push(chunk: Buffer): void {
    let offset = 0;
    const length = chunk.length;
    while (offset < length) {
      switch (this.state) {
        case 'data': {
          const take = Math.min(this.remaining, length - offset);
          this.onData(take === length ? chunk : chunk.subarray(offset, offset + take));
          offset += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'data-cr';
          break;
        }
        case 'data-cr':
          if (chunk[offset++] !== CR)
            throw s3Errors.malformedChunkedBody('chunk data is not followed by CRLF');
          this.state = 'data-lf';
          break;
        case 'data-lf':
          if (chunk[offset++] !== LF)
            throw s3Errors.malformedChunkedBody('chunk data is not followed by CRLF');
          this.state = 'size';
          break;
        case 'size':
        case 'trailer': {
          const newline = chunk.indexOf(LF, offset);
          const end = newline === -1 ? length : newline;
          if (this.lineLength + (end - offset) > MAX_LINE_BYTES) {
            throw s3Errors.malformedChunkedBody('chunk header line is too long');
          }
          chunk.copy(this.line, this.lineLength, offset, end);
          this.lineLength += end - offset;
          offset = newline === -1 ? length : newline + 1;
          if (newline !== -1) this.completeLine();
          break;
        }
        case 'done':
          // Tolerate stray line breaks after the final empty line; anything else is not aws-chunked.
          if (chunk[offset] !== CR && chunk[offset] !== LF) {
            throw s3Errors.malformedChunkedBody('data after the final chunk');
          }
          offset++;
          break;
      }
    }
  }

  /** Called at the end of the raw body: throws when the final chunk or trailer is missing. */
  end(): void {
    if (this.state === 'done') return;
    if (this.state === 'trailer') {
      // Some clients end the body right after the last trailer line, without the empty line.
      if (this.lineLength > 0) this.trailerLine(this.takeLine());
      this.state = 'done';
      return;
    }
    throw s3Errors.malformedChunkedBody('the body ended before the final zero-length chunk');
  }

  private takeLine(): string {
    let end = this.lineLength;
    if (end > 0 && this.line[end - 1] === CR) end--;
    const text = this.line.toString('latin1', 0, end);
    this.lineLength = 0;
    return text;
  }

  private completeLine(): void {
    if (this.lineLength === 0 || this.line[this.lineLength - 1] !== CR) {
      if (this.state === 'trailer' && this.lineLength === 0) {
        this.state = 'done';
        return;
      }
      throw s3Errors.malformedChunkedBody('a chunk header line does not end in CRLF');
    }
    const text = this.takeLine();
    if (this.state === 'trailer') {
      if (text === '') this.state = 'done';
      else this.trailerLine(text);
      return;
    }
    const semicolon = text.indexOf(';');
    const hex = semicolon === -1 ? text : text.slice(0, semicolon);
    if (!HEX_SIZE.test(hex)) throw s3Errors.malformedChunkedBody(`invalid chunk size "${hex.slice(0, 20)}"`);
    const size = Number.parseInt(hex, 16);
    if (size > 0 && this.previousSize >= 0 && this.previousSize < MIN_CHUNK_BYTES) {
      throw s3Errors.invalidChunkSize(this.chunks, this.previousSize);
    }
    this.chunks++;
    this.previousSize = size;
    if (size === 0) {
      this.state = 'trailer';
    } else {
      this.remaining = size;
      this.state = 'data';
    }
  }

  private trailerLine(text: string): void {
    const colon = text.indexOf(':');
    if (colon <= 0) throw s3Errors.malformedTrailer();
    this.trailers.set(text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim());
  }
}
