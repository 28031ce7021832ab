import type { FastifyInstance } from 'fastify';
import { type ApiContext, signedInUser } from './context.ts';
import { ME } from './schemas.ts';

/** Who is signed in. */
export function registerMe(api: FastifyInstance, ctx: ApiContext): void {
  api.get('/api/me', { schema: ME.get }, async (request) => {
    const user = await signedInUser(ctx, request);
    return { id: user.id, name: user.name, displayName: user.displayName, isAdmin: user.isAdmin };
  });
}
