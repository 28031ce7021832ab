import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiKey, ApiKeyRecord, ApiKeyStore, Storage } from '../../src/storage/types.ts';
import type { Backend } from './backends.ts';
import { freshStorePerTest, HOSTILE_IDS, MINUTE, T0 } from './fixture.ts';

function keysOf(storage: Storage): ApiKeyStore {
  assert.ok(storage.apiKeys, 'this backend keeps API keys');
  return storage.apiKeys;
}

const keyOf = (extra: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: Math.random().toString(16).slice(2, 18).padEnd(16, '0'),
  name: 'Case system',
  scopes: ['files:read', 'tokens'],
  createdAt: T0,
  createdBy: 'ann',
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
  secretHash: 'ab'.repeat(32),
  ...extra,
});

const withoutHash = ({ secretHash: _, ...key }: ApiKeyRecord): ApiKey => key;

/**
 * The ApiKeyStore contract: keys are kept with their hash (never more of the secret), listed newest first, revoked
 * once (the first time stands, and is the only one with an event), and their last use only moves forward. Every
 * change writes its event in the same transaction.
 */
export function apiKeyStoreContract(backend: Backend): void {
  describe(`ApiKeyStore contract [${backend.name}]`, () => {
    const fx = freshStorePerTest(backend);

    it('a key is stored as given, with its hash, and its creation is one event', async () => {
      const { storage } = fx();
      const keys = keysOf(storage);
      const key = keyOf({ expiresAt: T0 + 90 * 24 * 60 * MINUTE });
      const created = await keys.createKey(key, (k) => ({ type: 'apikey.created', userId: k.createdBy }));
      assert.deepEqual(created, withoutHash(key));
      assert.deepEqual(await keys.getKey(key.id), key);
      const events = await storage.events.list({ limit: 10 });
      assert.deepEqual(
        events.map((e) => [e.type, e.userId, e.at]),
        [['apikey.created', 'ann', T0]],
      );
    });

    it('lists every key, newest first, without hashes; revoked ones too', async () => {
      const { storage } = fx();
      const keys = keysOf(storage);
      const older = keyOf({ name: 'older', createdAt: T0 });
      const newer = keyOf({ name: 'newer', createdAt: T0 + MINUTE, scopes: ['webhooks'] });
      await keys.createKey(older);
      await keys.createKey(newer);
      await keys.revokeKey(older.id, T0 + 2 * MINUTE);
      const listed = await keys.listKeys();
      assert.deepEqual(
        listed.map((k) => [k.name, k.scopes, k.revokedAt]),
        [
          ['newer', ['webhooks'], null],
          ['older', ['files:read', 'tokens'], T0 + 2 * MINUTE],
        ],
      );
      for (const k of listed) assert.equal('secretHash' in k, false, 'a listing never carries hashes');
    });

    it('revoking keeps the first time and writes one event; an unknown key is null', async () => {
      const { storage } = fx();
      const keys = keysOf(storage);
      const key = keyOf();
      await keys.createKey(key);
      let described = 0;
      const event = (k: ApiKey) => {
        described++;
        return { type: 'apikey.revoked', details: { key: k.id } };
      };
      const first = await keys.revokeKey(key.id, T0 + MINUTE, event);
      assert.equal(first?.revokedAt, T0 + MINUTE);
      const again = await keys.revokeKey(key.id, T0 + 2 * MINUTE, event);
      assert.equal(again?.revokedAt, T0 + MINUTE, 'the first revocation stands');
      assert.equal(described, 1);
      const events = await storage.events.list({ limit: 10 });
      assert.deepEqual(
        events.map((e) => e.type),
        ['apikey.revoked'],
      );
      assert.equal(await keys.revokeKey('0000000000000000', T0, event), null);
    });

    it('the last use only moves forward, across instances', async () => {
      const f = fx();
      const keys = keysOf(f.storage);
      const key = keyOf();
      await keys.createKey(key);
      const peer = keysOf(await f.peer());
      await keys.markUsed(key.id, T0 + 5 * MINUTE);
      await peer.markUsed(key.id, T0 + 3 * MINUTE);
      assert.equal((await peer.getKey(key.id))?.lastUsedAt, T0 + 5 * MINUTE);
      await peer.markUsed(key.id, T0 + 6 * MINUTE);
      assert.equal((await keys.getKey(key.id))?.lastUsedAt, T0 + 6 * MINUTE);
    });

    it('a taken id is refused, and the first key stays as it was', async () => {
      const { storage } = fx();
      const keys = keysOf(storage);
      const key = keyOf();
      await keys.createKey(key);
      await assert.rejects(keys.createKey({ ...key, name: 'impostor', secretHash: 'cd'.repeat(32) }));
      assert.deepEqual(await keys.getKey(key.id), key);
    });

    it('hostile ids find nothing and change nothing', async () => {
      const { storage } = fx();
      const keys = keysOf(storage);
      for (const id of HOSTILE_IDS) {
        assert.equal(await keys.getKey(id), null);
        assert.equal(await keys.revokeKey(id, T0), null);
        await keys.markUsed(id, T0);
      }
      assert.deepEqual(await keys.listKeys(), []);
    });
  });
}
