import type { FastifyRequest } from 'fastify';
import type { ApiKeys } from '../../access/api-keys.ts';
import type { Access } from '../../access/policy.ts';
import { atLeast, type Role } from '../../access/roles.ts';
import { forbidden, notFound, QuireError } from '../../core/errors.ts';
import type { Actor, FileState } from '../../storage/types.ts';
import type { User } from '../../users/accounts.ts';
import type { WopiHost } from '../../wopi/context.ts';
import { currentUser, type SessionOptions } from '../session.ts';

/**
 * What every part of the JSON API works with: the host (storage, clock, limits), how people are signed in, and the
 * service API keys other apps call with (absent when the storage keeps none).
 */
export interface ApiContext {
  host: WopiHost;
  sessions: SessionOptions;
  apiKeys?: ApiKeys | undefined;
}

/** The document with its lock, or 404. Only for callers that have checked access (see `documentFor`). */
export async function stateOf({ host }: ApiContext, id: string): Promise<FileState> {
  const state = await host.storage.catalog.getState(id, host.clock.now());
  if (!state) throw notFound('no such document');
  return state;
}

const DOING: Record<Role, string> = {
  viewer: 'view',
  commenter: 'comment on',
  editor: 'edit',
  owner: 'manage',
};

/**
 * The document, if the signed-in user may do what `needs` allows with it: 404 when they may not see it at all (a
 * document one has no access to does not exist for them), 403 with the reason when their role is too weak.
 */
export async function documentFor(
  ctx: ApiContext,
  request: FastifyRequest,
  id: string,
  needs: Role,
): Promise<FileState & { access: Access }> {
  const user = await signedInUser(ctx, request);
  const state = await stateOf(ctx, id);
  const access = await ctx.host.access.accessTo({ kind: 'user', user }, state.file);
  if (!access) throw notFound('no such document');
  if (!atLeast(access.role, needs)) {
    throw forbidden(`you may not ${DOING[needs]} this document: you are its ${access.role}`);
  }
  return { ...state, access };
}

/** Refuses handing the bytes over when the document is shared with this user for secure view. */
export function refuseSecureView(access: Access): void {
  if (access.secureView) throw forbidden('this document is shared for viewing only: it cannot be downloaded');
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

/**
 * The signed-in user, or the service principal of the API key the request came with (an admin-like user whose id
 * starts with "apikey:", see access/api-keys.ts); the API's preHandlers have already turned everyone else away.
 */
export async function signedInUser({ sessions }: ApiContext, request: FastifyRequest): Promise<User> {
  const user = await currentUser(request, sessions);
  if (!user) throw new QuireError(401, 'sign in required');
  return user;
}
