import type { FastifyRequest } from 'fastify';
import { badRequest, QuireError } from '../../core/errors.ts';
import { readCapped } from '../../core/streams.ts';
import { checkJsonBody } from './validation.ts';

const MAX_JSON_BYTES = 64 * 1024;

/**
 * The request's JSON object body: 415 unless sent as application/json, 413 over 64 KiB, 400 unless an object that
 * fits the route's body schema (schemas.ts), with the reason naming the field.
 */
export async function readJsonObject(request: FastifyRequest): Promise<Record<string, unknown>> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new QuireError(415, 'send application/json');
  const body = await readCapped(request.raw, {
    max: MAX_JSON_BYTES,
    declared: Number(request.headers['content-length'] ?? 0),
    tooLarge: () => new QuireError(413, 'request body too large'),
  });
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {}
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw badRequest('body must be a JSON object');
  checkJsonBody(request, value);
  return value as Record<string, unknown>;
}

export function stringField(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v.trim() === '') throw badRequest(`"${key}" must be a non-empty string`);
  return v;
}
