import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';

/**
 * Headers every response carries, answers and refusals and 404s alike: browsers must not guess a type other than
 * the one sent (nosniff), and nothing Quire serves may leak its URL (with a file id, or an access token in a WOPI
 * URL) to another site in a Referer. Quire's pages set their own, stricter or page-specific, Referrer-Policy, which
 * is kept.
 */
export const NOSNIFF = { name: 'X-Content-Type-Options', value: 'nosniff' } as const;
export const DEFAULT_REFERRER_POLICY = { name: 'Referrer-Policy', value: 'no-referrer' } as const;

export function addSecurityHeaders(reply: FastifyReply): void {
  reply.header(NOSNIFF.name, NOSNIFF.value);
  if (!reply.hasHeader(DEFAULT_REFERRER_POLICY.name)) {
    reply.header(DEFAULT_REFERRER_POLICY.name, DEFAULT_REFERRER_POLICY.value);
  }
}

/**
 * Fastify's answer to a request Node's parser rejected (malformed, headers too large, too slow), written straight
 * to the socket as Fastify's own is, with the same headers as every other answer.
 */
export function clientErrorHandler(this: { log: FastifyBaseLogger }, err: NodeJS.ErrnoException, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Client Timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Exceeded maximum allowed HTTP header size']
        : [400, 'Client Error'];
  // the error may hold the raw request (URL, Authorization): logging.ts's serializer leaves it out
  this.log.trace({ err }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ error: `${STATUS_CODES[status]}: ${message}` });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\n${NOSNIFF.name}: ${NOSNIFF.value}\r\n` +
        `${DEFAULT_REFERRER_POLICY.name}: ${DEFAULT_REFERRER_POLICY.value}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
