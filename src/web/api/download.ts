import type { FastifyReply } from 'fastify';
import type { Storage } from '../../storage/types.ts';

/** RFC 6266: an ASCII fallback plus the exact UTF-8 name. */
function attachment(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  // RFC 8187 allows none of ' ( ) * bare; encodeURIComponent leaves them
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

/** Streams stored bytes as a download named `name`. */
export function sendDownload(
  reply: FastifyReply,
  storage: Storage,
  blob: { blobKey: string; size: number; name: string },
): FastifyReply {
  return reply
    .headers({
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(blob.size),
      'Content-Disposition': attachment(blob.name),
      'Cache-Control': 'no-store',
    })
    .send(storage.blobs.read(blob.blobKey));
}
