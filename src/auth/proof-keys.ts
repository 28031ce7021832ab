import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto';

/**
 * WOPI proof keys: the editor signs each WOPI request (access token, uppercased URL, X-WOPI-TimeStamp) with a
 * private key whose public half it publishes in discovery, so the host can tell its requests from forged ones.
 * Algorithm: Microsoft's "Verifying that requests originate from Office for the web by using proof keys".
 */

/** One key as the discovery XML's <proof-key> element gives it; every field is base64. */
export interface ProofKey {
  /** Big-endian RSA modulus (`modulus` / `oldmodulus`). */
  modulus?: string;
  /** Big-endian RSA public exponent (`exponent` / `oldexponent`). */
  exponent?: string;
  /** Microsoft CSP PUBLICKEYBLOB (`value` / `oldvalue`), for editors that publish only that. */
  value?: string;
}

export interface ProofKeySet {
  current: ProofKey;
  old?: ProofKey;
}

export interface ProofCheckInput {
  /** The access token exactly as it appears in the request (for Microsoft's clients, still URL-encoded). */
  accessToken: string;
  /** The full URL the editor called, query string included, as the editor saw it (https behind a TLS proxy). */
  url: string;
  /** X-WOPI-TimeStamp */
  timestamp: string | undefined;
  /** X-WOPI-Proof */
  proof: string | undefined;
  /** X-WOPI-ProofOld */
  proofOld: string | undefined;
  /** ms since epoch */
  now: number;
}

export type ProofCheckResult =
  | { ok: true; matched: 'current' | 'old-proof-current-key' | 'proof-old-key' }
  | { ok: false; reason: string };

/** Microsoft refuses proofs older than this; the same bound on the future side absorbs clock skew. */
export const PROOF_MAX_AGE_MS = 20 * 60 * 1000;

const TICKS_PER_MS = 10_000n;
/** .NET ticks (100 ns since 0001-01-01 UTC) at the Unix epoch. */
const UNIX_EPOCH_TICKS = 621_355_968_000_000_000n;
const PROOF_MAX_AGE_TICKS = BigInt(PROOF_MAX_AGE_MS) * TICKS_PER_MS;
/** X-WOPI-TimeStamp is a .NET `long`. */
const MAX_TICKS = 2n ** 63n - 1n;

export function dotNetTicksToMs(ticks: bigint): number {
  const sinceEpoch = ticks - UNIX_EPOCH_TICKS;
  // BigInt division truncates toward zero; floor keeps pre-1970 instants on the right millisecond.
  const wholeMs = sinceEpoch / TICKS_PER_MS;
  return Number(sinceEpoch < 0n && sinceEpoch % TICKS_PER_MS !== 0n ? wholeMs - 1n : wholeMs);
}

/** Throws RangeError for a non-finite `ms`, as BigInt does. */
export function msToDotNetTicks(ms: number): bigint {
  return BigInt(Math.floor(ms)) * TICKS_PER_MS + UNIX_EPOCH_TICKS;
}

/**
 * The bytes the editor signs: each of access token, uppercased URL and timestamp, preceded by its byte length
 * as a 4-byte big-endian integer; the timestamp as a 64-bit big-endian integer, not as text.
 */
export function buildExpectedProof(accessToken: string, url: string, timestampTicks: bigint): Buffer {
  const token = Buffer.from(accessToken, 'utf8');
  const upperUrl = Buffer.from(toUpperInvariant(url), 'utf8');
  const timestamp = Buffer.alloc(8);
  timestamp.writeBigInt64BE(timestampTicks);
  return Buffer.concat([
    lengthPrefix(token.length),
    token,
    lengthPrefix(upperUrl.length),
    upperUrl,
    lengthPrefix(8),
    timestamp,
  ]);
}

/**
 * Turns a discovery key into a public key: from modulus and exponent when both are given, else from the CSP blob.
 * Returns the reason instead of throwing, since discovery is input from another server.
 */
export function importProofKey(
  key: ProofKey | undefined,
): { ok: true; key: KeyObject } | { ok: false; reason: string } {
  if (key === null || typeof key !== 'object') return { ok: false, reason: 'no key given' };
  if (key.modulus !== undefined && key.exponent !== undefined) {
    const modulus = decodeBase64(key.modulus);
    const exponent = decodeBase64(key.exponent);
    if (!modulus || !exponent) return { ok: false, reason: 'modulus or exponent is not valid base64' };
    return rsaPublicKey(modulus, exponent);
  }
  if (key.value !== undefined) {
    const blob = decodeBase64(key.value);
    if (!blob) return { ok: false, reason: 'value is not valid base64' };
    const parsed = parseCspPublicKeyBlob(blob);
    if (typeof parsed === 'string') return { ok: false, reason: parsed };
    return rsaPublicKey(parsed.modulus, parsed.exponent);
  }
  return { ok: false, reason: 'key has neither modulus and exponent nor value' };
}

/**
 * Accepts a request when X-WOPI-Proof verifies with the current key, or X-WOPI-ProofOld with the current key
 * (the editor rotated its keys and our discovery is stale), or X-WOPI-Proof with the old key (our discovery is
 * newer than the editor's signing key). Never throws.
 */
export function checkProof(input: ProofCheckInput, keys: ProofKeySet): ProofCheckResult {
  if (input === null || typeof input !== 'object') return refuse('no request to check');
  if (typeof input.accessToken !== 'string' || typeof input.url !== 'string') {
    return refuse('access token and URL are required');
  }
  if (typeof input.proof !== 'string' || input.proof === '') return refuse('X-WOPI-Proof is missing');

  const timestamp = parseTimestamp(input.timestamp);
  if (typeof timestamp === 'string') return refuse(timestamp);
  if (typeof input.now !== 'number' || !Number.isFinite(input.now)) return refuse('no valid current time');
  const ageTicks = msToDotNetTicks(input.now) - timestamp;
  if (ageTicks > PROOF_MAX_AGE_TICKS) return refuse('X-WOPI-TimeStamp is more than 20 minutes old');
  if (-ageTicks > PROOF_MAX_AGE_TICKS) return refuse('X-WOPI-TimeStamp is more than 20 minutes in the future');

  const current = importProofKey(keys?.current);
  const old = keys?.old === undefined ? undefined : importProofKey(keys.old);
  if (!current.ok && !old?.ok) return refuse(`no usable proof key: ${current.reason}`);

  const expected = buildExpectedProof(input.accessToken, input.url, timestamp);
  const proof = decodeBase64(input.proof);
  const proofOld = typeof input.proofOld === 'string' ? decodeBase64(input.proofOld) : undefined;

  if (current.ok && proof && signatureHolds(expected, proof, current.key)) return { ok: true, matched: 'current' };
  if (current.ok && proofOld && signatureHolds(expected, proofOld, current.key)) {
    return { ok: true, matched: 'old-proof-current-key' };
  }
  if (old?.ok && proof && signatureHolds(expected, proof, old.key)) return { ok: true, matched: 'proof-old-key' };

  if (!proof) return refuse('X-WOPI-Proof is not valid base64');
  return refuse('neither X-WOPI-Proof nor X-WOPI-ProofOld verifies with the discovery proof keys');
}

function refuse(reason: string): ProofCheckResult {
  return { ok: false, reason };
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(length);
  return prefix;
}

/**
 * The editor uppercases with .NET's ToUpperInvariant, a one-to-one mapping per character, whereas JavaScript's
 * toUpperCase expands some characters ('ß' to 'SS'); those stay as they are so the byte counts agree.
 */
function toUpperInvariant(text: string): string {
  let upper = '';
  for (const char of text) {
    const mapped = char.toUpperCase();
    upper += [...mapped].length === 1 ? mapped : char;
  }
  return upper;
}

function parseTimestamp(header: string | undefined): bigint | string {
  if (header === undefined || header === '') return 'X-WOPI-TimeStamp is missing';
  if (typeof header !== 'string' || !/^[0-9]{1,19}$/.test(header)) return 'X-WOPI-TimeStamp is not a tick count';
  const ticks = BigInt(header);
  if (ticks > MAX_TICKS) return 'X-WOPI-TimeStamp is out of range';
  return ticks;
}

/** Buffer.from(…, 'base64') skips characters it does not know, so check the alphabet first. */
function decodeBase64(text: string): Buffer | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length % 4 !== 0) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

const PUBLICKEYBLOB = 0x06;
const CUR_BLOB_VERSION = 0x02;
const CALG_RSA_KEYX = 0x0000a400;
const CALG_RSA_SIGN = 0x00002400;
/** "RSA1" read as a little-endian uint32. */
const RSA1_MAGIC = 0x31415352;
/** BLOBHEADER (8 bytes) + RSAPUBKEY (12 bytes). */
const BLOB_HEADER_LENGTH = 20;

/**
 * Reads what .NET's RSACryptoServiceProvider.ExportCspBlob writes for a public key: BLOBHEADER (type, version,
 * reserved, algorithm id), RSAPUBKEY ("RSA1", bit length, exponent), then the modulus; integers little-endian.
 */
export function parseCspPublicKeyBlob(blob: Buffer): { modulus: Buffer; exponent: Buffer } | string {
  if (blob.length < BLOB_HEADER_LENGTH) return 'value is too short for a public-key blob';
  if (blob[0] !== PUBLICKEYBLOB || blob[1] !== CUR_BLOB_VERSION) return 'value is not a version 2 PUBLICKEYBLOB';
  const algorithm = blob.readUInt32LE(4);
  if (algorithm !== CALG_RSA_KEYX && algorithm !== CALG_RSA_SIGN) return 'value is not an RSA key blob';
  if (blob.readUInt32LE(8) !== RSA1_MAGIC) return 'value lacks the RSA1 magic';
  const bitLength = blob.readUInt32LE(12);
  if (bitLength === 0 || bitLength % 8 !== 0 || blob.length !== BLOB_HEADER_LENGTH + bitLength / 8) {
    return 'value has a modulus length that does not match its blob';
  }
  const exponent = Buffer.alloc(4);
  exponent.writeUInt32BE(blob.readUInt32LE(16));
  const modulus = Buffer.from(blob.subarray(BLOB_HEADER_LENGTH)).reverse();
  return { modulus, exponent };
}

function rsaPublicKey(modulus: Buffer, exponent: Buffer): { ok: true; key: KeyObject } | { ok: false; reason: string } {
  // JWK wants minimal big-endian integers: no leading zero bytes.
  const n = stripLeadingZeros(modulus);
  const e = stripLeadingZeros(exponent);
  if (n.length === 0 || e.length === 0) return { ok: false, reason: 'modulus or exponent is zero' };
  try {
    const key = createPublicKey({
      key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') },
      format: 'jwk',
    });
    return { ok: true, key };
  } catch (error) {
    return { ok: false, reason: `not a usable RSA public key (${(error as Error).message})` };
  }
}

function stripLeadingZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

function signatureHolds(expected: Buffer, signature: Buffer, key: KeyObject): boolean {
  try {
    return verify('sha256', expected, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    // OpenSSL throws on some malformed signatures (e.g. wrong length) instead of returning false.
    return false;
  }
}
