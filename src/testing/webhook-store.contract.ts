import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Storage, WebhookRecord, WebhookStore } from '../storage/types.ts';
import { needsPeer, type StorageBackend } from './backend.ts';
import { freshStorePerTest, HOSTILE_IDS, MINUTE, newFileIn, Refused, T0, versionOf } from './fixture.ts';

let counter = 0;
const hookOf = (kinds: string[], extra: Partial<WebhookRecord> = {}): WebhookRecord => ({
  id: `hook-${++counter}-${Math.random().toString(36).slice(2)}`,
  url: 'https://receiver.example/hook',
  events: null,
  kinds,
  description: 'test receiver',
  secret: 'whsec_test',
  createdAt: T0,
  createdBy: 'admin',
  ...extra,
});

const webhooksOf = (storage: Storage): WebhookStore => {
  assert.ok(storage.webhooks, 'the store keeps webhooks');
  return storage.webhooks;
};

/**
 * The WebhookStore contract (`Storage.webhooks`): the outbox is written with the event, in its transaction (a change
 * refused writes no delivery; a matching webhook gets exactly one per event); claims are exclusive and leased, so a
 * delivery whose sender died is claimed again (at least once) and two instances never claim the same attempt.
 */
export function webhookStoreContract(backend: StorageBackend): void {
  describe(`WebhookStore contract [${backend.name}]`, () => {
    const fx = freshStorePerTest(backend);

    it('registers, lists, changes and removes webhooks, keeping the secret and kinds it was given', async () => {
      const hooks = webhooksOf(fx().storage);
      const a = hookOf(['file.saved', 'lock.taken'], { events: ['version.created', 'lock.acquired'] });
      const b = hookOf(['file.deleted'], { createdAt: T0 + 1 });
      const shown = await hooks.createWebhook(a);
      assert.equal('secret' in shown, false, 'what create answers holds no secret');
      await hooks.createWebhook(b);
      assert.deepEqual(await hooks.getWebhook(a.id), a);
      assert.deepEqual(
        (await hooks.listWebhooks()).map((h) => h.id),
        [a.id, b.id],
      );
      const changed = await hooks.updateWebhook(a.id, { url: 'http://other.example/x', events: null, kinds: [] });
      assert.equal(changed?.url, 'http://other.example/x');
      assert.equal(changed?.events, null);
      assert.deepEqual((await hooks.getWebhook(a.id))?.kinds, []);
      assert.equal(await hooks.updateWebhook('nobody', { url: 'http://x.example/' }), null);
      assert.equal(await hooks.deleteWebhook(a.id), true);
      assert.equal(await hooks.deleteWebhook(a.id), false);
      assert.equal(await hooks.getWebhook(a.id), null);
    });

    it('a registration, a change and a removal each write the audit event they describe, with the change', async () => {
      const { storage } = fx();
      const hooks = webhooksOf(storage);
      const hook = hookOf(['file.saved'], { events: ['version.created'] });
      const describe = (type: string) => (h: { id: string; url: string }) => ({
        type,
        userId: 'admin',
        details: { webhook: h.id, url: h.url },
      });
      await hooks.createWebhook(hook, describe('webhook.created'));
      await hooks.updateWebhook(
        hook.id,
        { url: 'https://receiver.example/new' },
        { at: T0 + MINUTE, event: describe('webhook.changed') },
      );
      assert.equal(
        await hooks.updateWebhook('nobody', { url: 'https://x.example/' }, { at: T0, event: describe('x') }),
        null,
      );
      assert.equal(
        await hooks.deleteWebhook(hook.id, { at: T0 + 2 * MINUTE, event: describe('webhook.deleted') }),
        true,
      );
      assert.equal(await hooks.deleteWebhook(hook.id, { at: T0 + 3 * MINUTE, event: describe('x') }), false);
      const events = await storage.events.list({ limit: 10 });
      assert.deepEqual(
        events.map((e) => [e.type, e.at, e.details?.url]).sort((x, y) => Number(x[1]) - Number(y[1])),
        [
          ['webhook.created', T0, 'https://receiver.example/hook'],
          ['webhook.changed', T0 + MINUTE, 'https://receiver.example/new'],
          ['webhook.deleted', T0 + 2 * MINUTE, 'https://receiver.example/new'],
        ],
        'one event per change that happened, none for a webhook that is not there',
      );
    });

    it('writes one delivery per matching webhook with the event, and none for a refused change', async () => {
      const { storage } = fx();
      const hooks = webhooksOf(storage);
      const saves = await hooks.createWebhook(hookOf(['file.saved']));
      const all = await hooks.createWebhook(hookOf(['file.created', 'file.saved']));
      const other = await hooks.createWebhook(hookOf(['file.deleted']));
      const file = await newFileIn(storage, {
        event: (f) => ({ type: 'file.created', fileId: f.id, userId: 'ann' }),
      });
      await storage.catalog.commitVersion(
        file.id,
        await versionOf(storage, 'v2'),
        T0 + MINUTE,
        () => {},
        (f) => ({
          type: 'file.saved',
          fileId: f.id,
          details: { version: f.version },
        }),
      );
      await assert.rejects(
        storage.catalog.commitVersion(
          file.id,
          await versionOf(storage, 'v3'),
          T0 + 2 * MINUTE,
          () => {
            throw new Refused();
          },
          (f) => ({ type: 'file.saved', fileId: f.id }),
        ),
        Refused,
      );
      const [created, saved] = (await storage.events.list({ limit: 10 })).reverse();
      const of = async (id: string) => (await hooks.deliveries(id, { limit: 10 })).map((d) => [d.kind, d.eventId]);
      assert.deepEqual(await of(saves.id), [['file.saved', saved?.id]], 'only the committed save');
      assert.deepEqual(await of(all.id), [
        ['file.saved', saved?.id],
        ['file.created', created?.id],
      ]);
      assert.deepEqual(await of(other.id), []);
      const [delivery] = await hooks.deliveries(saves.id, { limit: 1 });
      assert.equal(delivery?.state, 'pending');
      assert.equal(delivery?.attempts, 0);
      assert.equal(delivery?.createdAt, T0 + MINUTE);
      assert.equal(delivery?.nextAttemptAt, T0 + MINUTE, 'due at once');
    });

    it('writes deliveries for an appended event (one with no change) too', async () => {
      const { storage } = fx();
      const hooks = webhooksOf(storage);
      const hook = await hooks.createWebhook(hookOf(['lock.broken']));
      const event = await storage.events.append({ type: 'lock.broken', fileId: 'f1' }, T0);
      const [delivery] = await hooks.deliveries(hook.id, { limit: 5 });
      assert.equal(delivery?.eventId, event.id);
    });

    it('claims due deliveries with their webhook and event, leased: claimed again only when the lease ends', async () => {
      const { storage } = fx();
      const hooks = webhooksOf(storage);
      const hook = await hooks.createWebhook(hookOf(['file.deleted']));
      const event = await storage.events.append({ type: 'file.deleted', fileId: 'f1', userName: 'Ann' }, T0);
      const [claimed, ...more] = await hooks.claim(T0, T0 + MINUTE, 10);
      assert.equal(more.length, 0);
      assert.equal(claimed?.webhookId, hook.id);
      assert.equal(claimed?.url, 'https://receiver.example/hook');
      assert.equal(claimed?.secret, 'whsec_test');
      assert.equal(claimed?.attempts, 1, 'the claim counts the attempt');
      assert.equal(claimed?.event?.id, event.id);
      assert.equal(claimed?.event?.userName, 'Ann');
      assert.deepEqual(await hooks.claim(T0 + 1, T0 + MINUTE, 10), [], 'leased: not due');
      // the sender died: after the lease it is claimed again, as attempt 2
      const [again] = await hooks.claim(T0 + MINUTE, T0 + 2 * MINUTE, 10);
      assert.equal(again?.id, claimed?.id);
      assert.equal(again?.attempts, 2);
      assert.equal(
        await hooks.settle(again?.id as string, 1, { state: 'delivered', status: 200 }, T0 + MINUTE),
        false,
        'the first attempt moved on: its outcome is not recorded',
      );
      assert.equal(await hooks.settle(again?.id as string, 2, { state: 'delivered', status: 204 }, T0 + MINUTE), true);
      const [done] = await hooks.deliveries(hook.id, { limit: 1 });
      assert.equal(done?.state, 'delivered');
      assert.equal(done?.lastStatus, 204);
      assert.equal(done?.finishedAt, T0 + MINUTE);
      assert.equal(done?.nextAttemptAt, null);
      assert.deepEqual(await hooks.claim(T0 + 9 * MINUTE, T0 + 10 * MINUTE, 10), [], 'delivered: never again');
    });

    it('keeps a retry for its time, a failure for good, and redelivers on request', async () => {
      const { storage } = fx();
      const hooks = webhooksOf(storage);
      const hook = await hooks.createWebhook(hookOf(['file.deleted']));
      await storage.events.append({ type: 'file.deleted', fileId: 'f1' }, T0);
      const [first] = await hooks.claim(T0, T0 + MINUTE, 10);
      const id = first?.id as string;
      const retry = { state: 'pending', status: 503, error: 'HTTP 503', nextAttemptAt: T0 + 5 * MINUTE } as const;
      assert.equal(await hooks.settle(id, 1, retry, T0 + 1), true);
      assert.deepEqual(await hooks.claim(T0 + 4 * MINUTE, T0 + 6 * MINUTE, 10), [], 'not before its next attempt');
      const [second] = await hooks.claim(T0 + 5 * MINUTE, T0 + 6 * MINUTE, 10);
      assert.equal(second?.lastStatus, 503);
      assert.equal(second?.lastError, 'HTTP 503');
      const failed = { state: 'failed', status: 410, error: 'HTTP 410: gone' } as const;
      assert.equal(await hooks.settle(id, 2, failed, T0 + 5 * MINUTE), true);
      assert.deepEqual(await hooks.claim(T0 + 60 * MINUTE, T0 + 61 * MINUTE, 10), [], 'failed: not claimed');
      const again = await hooks.redeliver(hook.id, id, T0 + 70 * MINUTE);
      assert.equal(again?.state, 'pending');
      assert.equal(again?.attempts, 0);
      assert.equal(again?.queuedAt, T0 + 70 * MINUTE);
      assert.equal(again?.createdAt, T0, 'still the event’s time');
      assert.equal((await hooks.claim(T0 + 70 * MINUTE, T0 + 71 * MINUTE, 10))[0]?.id, id, 'the same id');
      assert.equal(await hooks.redeliver('other-hook', id, T0), null, 'only through its own webhook');
    });

    it('queues pings, pages the delivery log newest first, and prunes only finished deliveries', async () => {
      const { storage } = fx();
      const hooks = webhooksOf(storage);
      const hook = await hooks.createWebhook(hookOf([]));
      const pings = [];
      for (let i = 0; i < 5; i++) pings.push(await hooks.enqueuePing(hook.id, T0 + i));
      assert.equal(pings[0]?.eventId, null);
      assert.equal(pings[0]?.kind, 'webhook.ping');
      const page1 = await hooks.deliveries(hook.id, { limit: 2 });
      assert.deepEqual(
        page1.map((d) => d.id),
        [pings[4]?.id, pings[3]?.id],
      );
      const page2 = await hooks.deliveries(hook.id, { limit: 10, before: page1[1]?.id as string });
      assert.deepEqual(
        page2.map((d) => d.id),
        [pings[2]?.id, pings[1]?.id, pings[0]?.id],
      );
      const claimed = await hooks.claim(T0 + 10, T0 + MINUTE, 2);
      for (const d of claimed) await hooks.settle(d.id, 1, { state: 'delivered', status: 200 }, T0 + 20);
      assert.equal(await hooks.pruneDeliveries(T0 + 20), 0, 'finished at the cut-off: kept');
      assert.equal(await hooks.pruneDeliveries(T0 + 21), 2);
      assert.equal((await hooks.deliveries(hook.id, { limit: 10 })).length, 3, 'pending ones stay');
      assert.equal(await hooks.deleteWebhook(hook.id), true);
      assert.deepEqual(await hooks.claim(T0 + MINUTE, T0 + 2 * MINUTE, 10), [], 'its deliveries went with it');
    });

    it('two instances claiming at once never take the same delivery', needsPeer(backend), async () => {
      const { storage, peer } = fx();
      const hooks = webhooksOf(storage);
      await hooks.createWebhook(hookOf(['file.opened']));
      for (let i = 0; i < 20; i++) await storage.events.append({ type: 'file.opened', fileId: `f${i}` }, T0);
      const other = webhooksOf(await peer());
      const taken: string[] = [];
      await Promise.all(
        [hooks, other, hooks, other].map(async (h) => {
          for (;;) {
            const batch = await h.claim(T0, T0 + MINUTE, 3);
            if (batch.length === 0) return;
            taken.push(...batch.map((d) => d.id));
          }
        }),
      );
      assert.equal(taken.length, 20, 'every delivery claimed');
      assert.equal(new Set(taken).size, 20, 'none twice');
    });

    it('answers "none" for ids no webhook or delivery has', async () => {
      const hooks = webhooksOf(fx().storage);
      for (const id of HOSTILE_IDS) {
        assert.equal(await hooks.getWebhook(id), null);
        assert.equal(await hooks.getDelivery(id, id), null);
        assert.deepEqual(await hooks.deliveries(id, { limit: 5 }), []);
        assert.equal(await hooks.redeliver(id, id, T0), null);
        assert.equal(await hooks.deleteWebhook(id), false);
      }
    });
  });
}
