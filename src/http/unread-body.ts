import type { FastifyReply, FastifyRequest } from 'fastify';

/** Bodies up to this size are read and dropped when a request is answered without them. */
const MAX_DRAINED_BODY = 64 * 1024 * 1024;

/**
 * A request may be answered without its body being read (a refusal before a large upload, Collabora's document
 * sent with RENAME_FILE). Left unread, the body would stall the next request on the same keep-alive connection.
 * A body of known, modest size is read and dropped, so the client gets its answer and keeps the connection; one of
 * unknown or large size ends the connection after the answer rather than be read to its end.
 */
export function discardUnreadBody(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  if (raw.readableEnded || raw.destroyed) return;
  // HTTP/1.1: a request has a body only when it says so, by length or by chunked transfer
  const chunked = request.headers['transfer-encoding'] !== undefined;
  const declared = Number(request.headers['content-length'] ?? 0);
  if (!chunked && !(declared > 0)) return;
  if (chunked || declared > MAX_DRAINED_BODY) reply.header('Connection', 'close');
  raw.resume();
}
