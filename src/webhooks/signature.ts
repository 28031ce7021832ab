import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How a delivery is signed: `v1=` and the hex HMAC-SHA256, keyed with the webhook's secret, of "<timestamp>.<body>"
 * (the timestamp in unix seconds, as sent in Quire-Webhook-Timestamp, and the body byte for byte). The receiver
 * recomputes it over the raw body it read, compares in constant time, and refuses old timestamps (replays).
 * The format is fixed: receivers in other languages (examples/sidecar) verify it.
 */
export const SIGNATURE_VERSION = 'v1';

export function signatureOf(secret: string, timestamp: number, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `${SIGNATURE_VERSION}=${mac}`;
}

/**
 * True when `header` (one or more comma-separated `v1=…` values) holds the signature of `body` at `timestamp`, and
 * the timestamp is within `toleranceSeconds` of `nowSeconds`. For receivers written in TypeScript, and the tests.
 */
export function verifySignature(input: {
  secret: string;
  header: string;
  timestamp: string;
  body: string | Uint8Array;
  nowSeconds: number;
  toleranceSeconds?: number;
}): boolean {
  if (!/^\d+$/.test(input.timestamp)) return false;
  const timestamp = Number(input.timestamp);
  if (Math.abs(input.nowSeconds - timestamp) > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signatureOf(input.secret, timestamp, input.body));
  return input.header
    .split(',')
    .map((v) => Buffer.from(v.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
}
