import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Bodies up to this size are read and dropped when a request is answered without them. */
const MAX_DRAINED_BODY = 64 * 1024 * 1024;
/** How long after the answer a body of unknown size may go on arriving (and be dropped) before Quire hangs up. */
const DRAIN_AFTER_ANSWER_MS = 10_000;
/** Once Quire has ended its side of a connection, how long it reads on before it closes it. */
const LINGER_MS = 2_000;

/**
 * A request may be answered without its body being read, or with it partly read (a refusal before a large upload,
 * a JSON or PutUserInfo body over its limit, Collabora's document sent with RENAME_FILE). Left unread, the body
 * would stall the next request on the same keep-alive connection, and a client still sending would block.
 *
 * So the rest of the body is always read and dropped, never left paused. A body of known, modest size is read to
 * its end and the connection stays open for the next request. One of unknown (chunked) size is read on for a while
 * after the answer, in the hope it ends; one of large size, or one that goes on too long, makes Quire end its
 * side of the connection after the answer and read on briefly before closing. Closing at once would make the
 * client's kernel throw the unread answer away when the reset arrives: a client that keeps sending would never
 * see the refusal.
 */
export function discardUnreadBody(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  if (raw.readableEnded || raw.destroyed) return;
  // HTTP/1.1: a request has a body only when it says so, by length or by chunked transfer
  const chunked = request.headers['transfer-encoding'] !== undefined;
  const declared = Number(request.headers['content-length'] ?? 0);
  if (!chunked && !(declared > 0)) return;
  // A body partly read and then given up on is paused (a limit that tripped unpiped it), or still piped into a
  // stage nobody reads any more (a write refused before it started): either way no byte would move again, and a
  // client still sending would hang until the keep-alive timeout. Detach it from everything and read it.
  raw.unpipe();
  raw.resume();
  if (!chunked && declared <= MAX_DRAINED_BODY) return;
  hangUpUnlessItEnds(raw, reply.raw, chunked ? MAX_DRAINED_BODY : 0);
}

/**
 * Drops up to `budget` more bytes of `body` within DRAIN_AFTER_ANSWER_MS of the answer; if the body has not ended
 * by then, ends the connection once the answer is out (FIN: the client reads the answer, then the end), keeps
 * reading for LINGER_MS so what the client still sends meets no reset, and closes it.
 */
function hangUpUnlessItEnds(body: IncomingMessage, answer: ServerResponse, budget: number): void {
  const socket = body.socket;
  let left = budget;
  let answered = false;
  let overBudget = budget === 0;
  let timer: NodeJS.Timeout | undefined;

  const stopWatching = () => {
    clearTimeout(timer);
    body.off('data', count);
    body.off('end', stopWatching);
    answer.off('finish', onAnswered);
    socket.off('close', stopWatching);
  };
  const hangUp = () => {
    stopWatching();
    if (socket.destroyed) return;
    socket.end();
    body.resume();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  function count(chunk: Buffer) {
    left -= chunk.length;
    if (left >= 0 || overBudget) return;
    overBudget = true;
    if (answered) hangUp();
  }
  function onAnswered() {
    answered = true;
    if (overBudget) hangUp();
    else timer = setTimeout(hangUp, DRAIN_AFTER_ANSWER_MS).unref();
  }

  body.on('data', count);
  // the body ended within the budget: the connection carries on as usual
  body.once('end', stopWatching);
  answer.once('finish', onAnswered);
  socket.once('close', stopWatching);
}
