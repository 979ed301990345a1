/**
 * Writing responses in each AWS wire format, and AWS-shaped errors.
 */
import type { ServerResponse } from 'node:http';
import { AwsError, type WireProtocol } from './types.ts';

/** Escapes text for XML element content and attribute values. */
export function xmlEscape(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters must be escaped as character references.
  return text.replace(/[<>&'"\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (ch) => {
    switch (ch) {
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '&':
        return '&amp;';
      case "'":
        return '&apos;';
      case '"':
        return '&quot;';
      default:
        return `&#${ch.charCodeAt(0)};`;
    }
  });
}

/** A value that renders to XML: text, a number, a boolean, nested elements, or a list of elements. */
export type XmlValue = string | number | boolean | Date | undefined | null | XmlNode | XmlValue[];
export interface XmlNode {
  readonly [tag: string]: XmlValue;
}

/**
 * Renders `{ Tag: value }` as XML. Arrays repeat the element (`{ Member: [a, b] }` gives two
 * `<Member>`s); `undefined`/`null` fields are left out; dates use ISO 8601.
 */
export function toXml(node: XmlNode): string {
  let out = '';
  for (const [tag, value] of Object.entries(node)) out += renderElement(tag, value);
  return out;
}

function renderElement(tag: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((item) => renderElement(tag, item)).join('');
  if (value instanceof Date) return `<${tag}>${value.toISOString()}</${tag}>`;
  if (typeof value === 'object') return `<${tag}>${toXml(value)}</${tag}>`;
  return `<${tag}>${xmlEscape(String(value))}</${tag}>`;
}

/** Sends an XML document with the given root element. */
export function sendXml(
  res: ServerResponse,
  status: number,
  root: string,
  body: XmlNode,
  options: { xmlns?: string; headers?: Record<string, string> } = {},
): void {
  const ns = options.xmlns ? ` xmlns="${options.xmlns}"` : '';
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns}>${toXml(body)}</${root}>`;
  res.writeHead(status, { 'content-type': 'application/xml', ...options.headers });
  res.end(xml);
}

/** Sends a JSON 1.0/1.1 protocol response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/x-amz-json-1.1',
): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(JSON.stringify(body ?? {}));
}

/** Renders an AwsError in the protocol of the service that raised it. */
export function sendError(
  res: ServerResponse,
  protocol: WireProtocol,
  error: AwsError,
  requestId: string,
  resource = '',
): void {
  if (res.headersSent) {
    res.destroy(error);
    return;
  }
  switch (protocol) {
    case 'json':
      res.writeHead(error.status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-errortype': error.code,
      });
      res.end(JSON.stringify({ __type: error.code, message: error.message, ...error.fields }));
      return;
    case 'rest-json':
      res.writeHead(error.status, { 'content-type': 'application/json', 'x-amzn-errortype': error.code });
      res.end(
        JSON.stringify({
          Type: error.fault === 'Sender' ? 'User' : 'Service',
          message: error.message,
          ...error.fields,
        }),
      );
      return;
    case 'query':
      sendXml(res, error.status, 'ErrorResponse', {
        Error: { Type: error.fault, Code: error.code, Message: error.message, ...error.fields },
        RequestId: requestId,
      });
      return;
    case 'rest-xml':
      if (error.status === 304 || (res.req?.method ?? '') === 'HEAD') {
        res.writeHead(error.status, { 'x-amz-request-id': requestId });
        res.end();
        return;
      }
      sendXml(res, error.status, 'Error', {
        Code: error.code,
        Message: error.message,
        Resource: resource || undefined,
        ...error.fields,
        RequestId: requestId,
      });
      return;
  }
}

/** Turns anything thrown into an AwsError; unexpected errors become InternalFailure (500). */
export function toAwsError(error: unknown, protocol: WireProtocol): AwsError {
  if (error instanceof AwsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AwsError(protocol === 'rest-xml' ? 'InternalError' : 'InternalFailure', message, 500);
}
