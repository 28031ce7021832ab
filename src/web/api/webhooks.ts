import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden, QuireError } from '../../core/errors.ts';
import { deliveryView, eventTypeList, Webhooks, webhookView } from '../../webhooks/registry.ts';
import { type ApiContext, actorOf, signedInUser } from './context.ts';
import { readJsonObject } from './json-body.ts';
import { WEBHOOKS } from './schemas.ts';

/**
 * Webhooks, for admins (and service API keys with the `webhooks` scope, which act as one): register a receiver (its
 * signing secret is answered once), list, change, remove, ping, and the delivery log with redelivery. Sending is the
 * worker's job (webhooks/worker.ts); this only writes to the outbox and reads the log.
 */
export function registerWebhooks(api: FastifyInstance, ctx: ApiContext): void {
  const store = ctx.host.storage.webhooks;
  const webhooks = store && new Webhooks(store, ctx.host.clock);

  /** The same check the people & groups API makes: admins only. */
  const admin = async (request: FastifyRequest): Promise<Webhooks> => {
    const user = await signedInUser(ctx, request);
    if (!user.isAdmin) throw forbidden('only admins manage webhooks');
    if (!webhooks) throw new QuireError(501, 'this storage keeps no webhooks');
    return webhooks;
  };

  api.get('/api/webhooks/event-types', { schema: WEBHOOKS.eventTypes }, async (request) => {
    await admin(request);
    return eventTypeList();
  });

  api.get('/api/webhooks', { schema: WEBHOOKS.list }, async (request) => {
    const hooks = await admin(request);
    return (await hooks.list()).map(webhookView);
  });

  api.post('/api/webhooks', { schema: WEBHOOKS.create }, async (request, reply) => {
    const hooks = await admin(request);
    const body = await readJsonObject(request);
    const user = await signedInUser(ctx, request);
    const { secret, ...created } = await hooks.register(body, { ...(await actorOf(ctx, request)), userId: user.id });
    return reply.code(201).send({ ...webhookView(created), secret });
  });

  api.patch<{ Params: { id: string } }>('/api/webhooks/:id', { schema: WEBHOOKS.update }, async (request) => {
    const hooks = await admin(request);
    const change = await readJsonObject(request);
    return webhookView(await hooks.update(request.params.id, change, await actorOf(ctx, request)));
  });

  api.delete<{ Params: { id: string } }>('/api/webhooks/:id', { schema: WEBHOOKS.delete }, async (request, reply) => {
    const hooks = await admin(request);
    await hooks.remove(request.params.id, await actorOf(ctx, request));
    return reply.code(204).send();
  });

  api.post<{ Params: { id: string } }>('/api/webhooks/:id/ping', { schema: WEBHOOKS.ping }, async (request, reply) => {
    const hooks = await admin(request);
    return reply.code(202).send(deliveryView(await hooks.ping(request.params.id)));
  });

  api.get<{ Params: { id: string }; Querystring: { limit?: string; before?: string } }>(
    '/api/webhooks/:id/deliveries',
    { schema: WEBHOOKS.deliveries },
    async (request) => {
      const hooks = await admin(request);
      const { limit, before } = request.query;
      if (limit !== undefined && !/^\d{1,4}$/.test(limit)) throw badRequest('limit must be a number up to 1000');
      const list = await hooks.deliveries(request.params.id, {
        limit: Math.min(1000, Number(limit ?? 50)),
        ...(before && { before }),
      });
      return list.map(deliveryView);
    },
  );

  api.post<{ Params: { id: string; delivery: string } }>(
    '/api/webhooks/:id/deliveries/:delivery/redeliver',
    { schema: WEBHOOKS.redeliver },
    async (request, reply) => {
      const hooks = await admin(request);
      return reply.code(202).send(deliveryView(await hooks.redeliver(request.params.id, request.params.delivery)));
    },
  );
}
