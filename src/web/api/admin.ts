import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Sharing } from '../../access/sharing.ts';
import { forbidden, notFound, QuireError } from '../../core/errors.ts';
import type { User } from '../../storage/types.ts';
import { type ApiContext, actorOf, signedInUser } from './context.ts';
import { readJsonObject, stringField } from './json-body.ts';
import { ADMIN } from './schemas.ts';

/**
 * People and groups, for admins: list, add people, make or unmake admins, disable and enable accounts (a disabled
 * account's sign-ins and editor sessions end within a second), create and delete groups, add and remove members.
 */
export function registerAdmin(api: FastifyInstance, ctx: ApiContext, sharing: Sharing): void {
  const { storage } = ctx.host;

  const admin = async (request: FastifyRequest): Promise<User> => {
    const user = await signedInUser(ctx, request);
    if (!user.isAdmin) throw forbidden('only admins manage people and groups');
    return user;
  };
  const users = () => {
    if (!storage.users) throw new QuireError(501, 'this storage keeps no users');
    return storage.users;
  };
  const personView = async (u: User) => ({
    id: u.id,
    name: u.name,
    displayName: u.displayName,
    isAdmin: u.isAdmin,
    disabled: Boolean(u.disabledAt),
    createdAt: new Date(u.createdAt).toISOString(),
    groups: ((await storage.access?.groupsOf(u.id)) ?? []).map((g) => ({ id: g.id, name: g.name })),
  });

  api.get('/api/admin/users', { schema: ADMIN.users }, async (request) => {
    await admin(request);
    return Promise.all((await users().list()).map(personView));
  });

  api.post('/api/admin/users', { schema: ADMIN.addUser }, async (request, reply) => {
    await admin(request);
    const body = await readJsonObject(request);
    const accounts = ctx.sessions.users;
    const created = await accounts.create({
      name: stringField(body, 'name'),
      ...(typeof body.displayName === 'string' && body.displayName.trim() && { displayName: body.displayName }),
      ...(typeof body.password === 'string' && { password: body.password }),
      isAdmin: body.isAdmin === true,
    });
    return reply.code(201).send(await personView(created));
  });

  api.patch<{ Params: { id: string } }>('/api/admin/users/:id', { schema: ADMIN.updateUser }, async (request) => {
    const me = await admin(request);
    const body = await readJsonObject(request);
    const user = await users().findById(request.params.id);
    if (!user) throw notFound('no such user');
    const actor = await actorOf(ctx, request);
    if (typeof body.isAdmin === 'boolean') {
      if (!body.isAdmin && user.id === me.id) throw forbidden('you cannot take away your own admin rights');
      await users().setAdmin(user.id, body.isAdmin);
    }
    if (typeof body.disabled === 'boolean') await sharing.setDisabled(user, body.disabled, actor);
    return personView((await users().findById(user.id)) as User);
  });

  const groupView = async (g: { id: string; name: string; source: string; createdAt: number }) => ({
    id: g.id,
    name: g.name,
    source: g.source,
    createdAt: new Date(g.createdAt).toISOString(),
    members: await Promise.all(
      ((await storage.access?.members(g.id)) ?? []).map(async (id) => {
        const u = await storage.users?.findById(id);
        return { id, name: u?.name ?? id, displayName: u?.displayName ?? id };
      }),
    ),
  });

  api.get('/api/admin/groups', { schema: ADMIN.groups }, async (request) => {
    await admin(request);
    return Promise.all(((await storage.access?.listGroups()) ?? []).map(groupView));
  });

  api.post('/api/admin/groups', { schema: ADMIN.addGroup }, async (request, reply) => {
    await admin(request);
    const body = await readJsonObject(request);
    const group = await sharing.createGroup(stringField(body, 'name'), await actorOf(ctx, request));
    return reply.code(201).send(await groupView(group));
  });

  api.delete<{ Params: { id: string } }>(
    '/api/admin/groups/:id',
    { schema: ADMIN.deleteGroup },
    async (request, reply) => {
      await admin(request);
      await sharing.deleteGroup(request.params.id, await actorOf(ctx, request));
      return reply.code(204).send();
    },
  );

  api.put<{ Params: { id: string; user: string } }>(
    '/api/admin/groups/:id/members/:user',
    { schema: ADMIN.addMember },
    async (request, reply) => {
      await admin(request);
      const member = await users().findById(request.params.user);
      if (!member) throw notFound('no such user');
      await sharing.addMember(request.params.id, member, await actorOf(ctx, request));
      return reply.code(204).send();
    },
  );

  api.delete<{ Params: { id: string; user: string } }>(
    '/api/admin/groups/:id/members/:user',
    { schema: ADMIN.removeMember },
    async (request, reply) => {
      await admin(request);
      await sharing.removeMember(request.params.id, request.params.user, await actorOf(ctx, request));
      return reply.code(204).send();
    },
  );
}
