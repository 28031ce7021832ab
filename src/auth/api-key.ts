import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Service API keys as values: `quire_<id>_<secret>`. The prefix lets secret scanners (and people) recognise a leaked
 * key; the id, 16 hex digits, is public and names the stored key, so a request is checked against one row; the
 * secret is 256 random bits (43 base64url characters). Only SHA-256 of the secret is stored: with that much entropy
 * a slow password hash would add nothing.
 */

export const API_KEY_PREFIX = 'quire_';
const SHAPE = /^quire_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  id: string;
  /** The whole key, shown once to whoever made it. */
  key: string;
  /** What is stored. */
  secretHash: string;
}

export const hashApiKeySecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function newApiKey(): NewApiKey {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `${API_KEY_PREFIX}${id}_${secret}`, secretHash: hashApiKeySecret(secret) };
}

/** The id and secret of a well-formed key; null for anything else. */
export function parseApiKey(text: string): { id: string; secret: string } | null {
  const m = SHAPE.exec(text);
  return m ? { id: m[1] as string, secret: m[2] as string } : null;
}

/** Whether `secret` is the one whose hash was stored, compared in constant time. */
export function apiKeySecretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashApiKeySecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
