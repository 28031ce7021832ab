import type { FastifyRequest } from 'fastify';
import { notFound, QuireError } from '../../core/errors.ts';
import type { Actor, FileState } from '../../storage/types.ts';
import type { User } from '../../users/accounts.ts';
import type { WopiHost } from '../../wopi/context.ts';
import { currentUser, type SessionOptions } from '../session.ts';

/** What every part of the JSON API works with: the host (storage, clock, limits) and how people are signed in. */
export interface ApiContext {
  host: WopiHost;
  sessions: SessionOptions;
}

/** The document with its lock, or 404. */
export async function stateOf({ host }: ApiContext, id: string): Promise<FileState> {
  const state = await host.storage.catalog.getState(id, host.clock.now());
  if (!state) throw notFound('no such document');
  return state;
}

/** Who sends this request, for the events it causes: the signed-in user, their address and browser. */
export async function actorOf(ctx: ApiContext, request: FastifyRequest): Promise<Actor> {
  const user = await signedInUser(ctx, request);
  const agent = request.headers['user-agent'];
  return {
    userId: user.id,
    userName: user.displayName,
    address: request.ip,
    ...(typeof agent === 'string' && { client: agent }),
  };
}

/** The signed-in user; the API's preHandler has already turned everyone else away. */
export async function signedInUser({ sessions }: ApiContext, request: FastifyRequest): Promise<User> {
  const user = await currentUser(request, sessions);
  if (!user) throw new QuireError(401, 'sign in required');
  return user;
}
