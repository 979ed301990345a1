/**
 * S3 request and response XML: small request bodies parsed with fast-xml-parser (after the same
 * checksum validation as object bodies), responses rendered in S3's namespace.
 */
import type { ServerResponse } from 'node:http';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { sendXml, type XmlNode } from '../../core/responses.ts';
import type { SandboxRequest } from '../../core/types.ts';
import { s3Errors } from './errors.ts';
import { S3_XMLNS } from './model.ts';
import { payloadSpec, receivePayload } from './payload.ts';
import { MemorySink } from './sinks.ts';

const MAX_XML_BYTES = 2 * 1024 * 1024;
const LIST_ELEMENTS = new Set(['Part', 'Object', 'Tag', 'Rule']);

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  isArray: (name) => LIST_ELEMENTS.has(name),
});

export type XmlObject = { readonly [name: string]: unknown };

/** Parses an XML document; MalformedXML when it is not well-formed or has no root element. */
export function parseXml(body: Buffer, root: string): XmlObject {
  const text = body.toString('utf8');
  if (XMLValidator.validate(text) !== true) throw s3Errors.malformedXml();
  const document = parser.parse(text) as XmlObject;
  const element = document[root];
  if (element === '') return {};
  if (!isObject(element)) throw s3Errors.malformedXml();
  return element;
}

function isObject(value: unknown): value is XmlObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A child element as an object (empty elements give {}); undefined when absent. */
export function childOf(node: XmlObject, name: string): XmlObject | undefined {
  const value = node[name];
  if (value === undefined) return undefined;
  if (value === '') return {};
  if (!isObject(value)) throw s3Errors.malformedXml();
  return value;
}

/** A repeated child element (configured in LIST_ELEMENTS) as a list of objects. */
export function listOf(node: XmlObject | undefined, name: string): XmlObject[] {
  const value = node?.[name];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw s3Errors.malformedXml();
  return value.map((item) => (item === '' ? {} : isObject(item) ? item : throwMalformed()));
}

function throwMalformed(): never {
  throw s3Errors.malformedXml();
}

/** The text of a leaf child element; undefined when absent. */
export function textOf(node: XmlObject | undefined, name: string): string | undefined {
  const value = node?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw s3Errors.malformedXml();
  return value;
}

/**
 * Reads a small XML request body (validating Content-MD5 / checksums like any body) and parses it.
 * See payloadSpec for `checksumHeadersDescribeObject`.
 */
export async function readXmlBody(
  req: SandboxRequest,
  root: string,
  checksumHeadersDescribeObject = false,
): Promise<XmlObject> {
  const body = await readSmallBody(req, checksumHeadersDescribeObject);
  if (body.length === 0) throw s3Errors.malformedXml();
  return parseXml(body, root);
}

/** Reads a small request body into memory with full payload validation. */
export async function readSmallBody(
  req: SandboxRequest,
  checksumHeadersDescribeObject = false,
): Promise<Buffer> {
  const spec = payloadSpec(req.headers, MAX_XML_BYTES, checksumHeadersDescribeObject);
  const sink = new MemorySink(MAX_XML_BYTES);
  await receivePayload(req, spec, sink);
  return sink.body();
}

/** Sends an S3 XML response. */
export function sendS3Xml(
  res: ServerResponse,
  root: string,
  body: XmlNode,
  headers: Record<string, string> = {},
  status = 200,
): void {
  sendXml(res, status, root, body, { xmlns: S3_XMLNS, headers });
}

/** Sends a prepared XML document body (for element orders toXml cannot express). */
export function sendXmlText(res: ServerResponse, root: string, inner: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_XMLNS}">${inner}</${root}>`);
}
