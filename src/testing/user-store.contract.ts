import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Storage, UserExistsError, type UserStore } from '../storage/types.ts';
import { needsPeer, type StorageBackend } from './backend.ts';
import { freshStorePerTest, HOSTILE_IDS, T0 } from './fixture.ts';

function usersOf(storage: Storage): UserStore {
  assert.ok(storage.users, 'this backend keeps users');
  return storage.users;
}

const person = (name: string, extra: Partial<Parameters<UserStore['insert']>[0]> = {}) => ({
  name,
  nameKey: name.toLowerCase(),
  displayName: `${name} Example`,
  passwordHash: `$argon2id$v=19$m=4096,t=1,p=1$${name}`,
  isAdmin: false,
  createdAt: T0,
  ...extra,
});

/**
 * The UserStore contract: persistence only (the name and password rules live above it, in users/accounts.ts).
 * Name keys are unique, across instances too; hashes swap only when unchanged.
 */
export function userStoreContract(backend: StorageBackend): void {
  describe(`UserStore contract [${backend.name}]`, () => {
    const fx = freshStorePerTest(backend);

    it('stores a user and finds it by id and by name key, with its hash; list leaves hashes out', async () => {
      const users = usersOf(fx().storage);
      const ann = await users.insert(person('Ann', { isAdmin: true }));
      assert.match(ann.id, /^[0-9a-f]{32}$/);
      assert.deepEqual(ann, {
        id: ann.id,
        name: 'Ann',
        displayName: 'Ann Example',
        isAdmin: true,
        createdAt: T0,
      });
      assert.deepEqual(await users.findById(ann.id), { ...ann, passwordHash: person('Ann').passwordHash });
      assert.deepEqual(await users.findByKey('ann'), await users.findById(ann.id));
      assert.equal(await users.findByKey('Ann'), null, 'keys are compared as stored: callers normalise');
      await users.insert(person('bob', { passwordHash: null }));
      assert.equal((await users.findByKey('bob'))?.passwordHash, null);
      const listed = await users.list();
      assert.deepEqual(
        listed.map((u) => u.name),
        ['Ann', 'bob'],
      );
      for (const u of listed) assert.ok(!('passwordHash' in u), 'list carries no hashes');
    });

    it(
      'refuses a second user with the same name key (UserExistsError), also from another instance at once',
      needsPeer(backend),
      async () => {
        const { storage } = fx();
        const users = usersOf(storage);
        await users.insert(person('Ann'));
        await assert.rejects(users.insert(person('ANN', { nameKey: 'ann' })), UserExistsError);
        const peer = usersOf(await fx().peer());
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) => (i % 2 ? users : peer).insert(person(`carol${i}`, { nameKey: 'carol' }))),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one insert wins');
        for (const r of results) {
          if (r.status === 'rejected') assert.ok(r.reason instanceof UserExistsError, String(r.reason));
        }
        assert.equal((await users.list()).filter((u) => u.name.startsWith('carol')).length, 1);
      },
    );

    it('sets a password hash; with `expected`, only while the stored hash is still that one', async () => {
      const users = usersOf(fx().storage);
      const ann = await users.insert(person('Ann'));
      const first = person('Ann').passwordHash as string;
      assert.equal(await users.setPasswordHash(ann.id, 'second'), true);
      assert.equal((await users.findById(ann.id))?.passwordHash, 'second');
      assert.equal(await users.setPasswordHash(ann.id, 'third', first), false, 'stale expectation changes nothing');
      assert.equal((await users.findById(ann.id))?.passwordHash, 'second');
      assert.equal(await users.setPasswordHash(ann.id, 'third', 'second'), true);
      assert.equal((await users.findById(ann.id))?.passwordHash, 'third');
      assert.equal(await users.setPasswordHash('no-such-user', 'x'), false);
    });

    it('a change on one instance is seen by the next read on another', needsPeer(backend), async () => {
      const { storage } = fx();
      const users = usersOf(storage);
      const peer = usersOf(await fx().peer());
      assert.equal(await peer.findByKey('dora'), null);
      const dora = await users.insert(person('dora'));
      assert.equal((await peer.findByKey('dora'))?.id, dora.id);
      await users.setPasswordHash(dora.id, 'changed');
      assert.equal((await peer.findById(dora.id))?.passwordHash, 'changed');
    });

    it('keys and ids no user can have answer null rather than fail', async () => {
      const users = usersOf(fx().storage);
      for (const id of HOSTILE_IDS) {
        assert.equal(await users.findById(id), null, JSON.stringify(id.slice(0, 20)));
        assert.equal(await users.findByKey(id), null, JSON.stringify(id.slice(0, 20)));
      }
    });
  });
}
