import type { ClaimedDelivery } from '../storage/types.ts';
import { signatureOf } from './signature.ts';
import { PING_TYPE, publicTypeOf } from './vocabulary.ts';

/** The headers of a delivery, spelled once. */
export const WEBHOOK_HEADER = {
  /** The delivery's id: the same on every retry and redelivery, so a receiver deduplicates on it. */
  id: 'Quire-Webhook-Id',
  /** Unix seconds when this attempt was signed. */
  timestamp: 'Quire-Webhook-Timestamp',
  /** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` (signature.ts). */
  signature: 'Quire-Webhook-Signature',
} as const;

/** What a receiver gets as the JSON body. */
export interface WebhookBody {
  /** The delivery id (as in Quire-Webhook-Id). */
  id: string;
  type: string;
  /** When the event happened, ISO 8601. */
  createdAt: string;
  data: Record<string, unknown>;
}

/** Why a delivery cannot be sent at all (not the receiver's fault; retrying would not help). */
export class Undeliverable extends Error {
  override name = 'Undeliverable';
}

/**
 * The body of a claimed delivery. The event's own details come first, then the file and who did it (they are not
 * overridden by a detail of the same name).
 */
export function bodyOf(delivery: ClaimedDelivery): WebhookBody {
  const createdAt = new Date(delivery.createdAt).toISOString();
  if (delivery.eventId === null) {
    return { id: delivery.id, type: PING_TYPE, createdAt, data: { webhookId: delivery.webhookId } };
  }
  const event = delivery.event;
  if (!event) throw new Undeliverable('the event is no longer in the event log (removed by retention)');
  const type = publicTypeOf(event.type);
  if (!type) throw new Undeliverable(`events of kind ${event.type} are not sent to webhooks`);
  const actor =
    event.userId !== undefined || event.userName !== undefined
      ? {
          ...(event.userId !== undefined && { id: event.userId }),
          ...(event.userName !== undefined && { name: event.userName }),
        }
      : null;
  return {
    id: delivery.id,
    type,
    createdAt: new Date(event.at).toISOString(),
    data: { ...event.details, fileId: event.fileId ?? null, actor },
  };
}

/** The body as sent and the headers that go with it, signed at `nowMs`. */
export function signedRequest(
  delivery: ClaimedDelivery,
  nowMs: number,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(bodyOf(delivery));
  const timestamp = Math.floor(nowMs / 1000);
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'Quire-Webhooks/1',
      [WEBHOOK_HEADER.id]: delivery.id,
      [WEBHOOK_HEADER.timestamp]: String(timestamp),
      [WEBHOOK_HEADER.signature]: signatureOf(delivery.secret, timestamp, body),
    },
  };
}
