import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { WopiResponse } from './host.ts';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A request through node:http rather than fetch, for header values fetch would refuse or re-encode: a string
 * header value goes on the wire as latin1, byte for byte (e.g. "é" is the single byte 0xE9).
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The X-WOPI-Lock header of a response: null when absent, "" when present and empty. */
export const lockOf = (res: WopiResponse): string | null => res.headers.get('x-wopi-lock');

/** The X-WOPI-ItemVersion header of a response, or null. */
export const itemVersionOf = (res: WopiResponse): string | null => res.headers.get('x-wopi-itemversion');

/** Base64 of the SHA-256 of `bytes`, as CheckFileInfo's SHA256 property spells it. */
export const sha256Base64 = (bytes: string | Uint8Array): string => createHash('sha256').update(bytes).digest('base64');

export const MINUTE = 60_000;
