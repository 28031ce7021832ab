import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import { runQuire, runQuireJson } from './helpers/process-helpers.ts';

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('quire group … and quire user disable/enable', () => {
  let dir: string;
  let data: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-cli-groups-'));
    data = join(dir, 'data');
    for (const name of ['ann', 'bob']) {
      const added = await runQuire(['user', 'add', name, '--data', data], { env: { QUIRE_PASSWORD: 'long enough 1' } });
      assert.equal(added.code, 0, added.stderr);
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('adds a group, a member, lists them, removes the member and deletes the group; every change is audited', async () => {
    const team = await runQuireJson<{ id: string; name: string }>(['group', 'add', 'Team', '--data', data]);
    assert.equal(team.name, 'Team');
    const again = await runQuire(['group', 'add', 'team', '--data', data]);
    assert.equal(again.code, 2, 'a name taken without regard to case');
    assert.match(again.stderr, /already exists/);
    assert.equal((await runQuire(['group', 'member', 'add', 'TEAM', 'bob', '--data', data])).code, 0);
    const listed = lines((await runQuire(['group', 'list', '--data', data])).stdout);
    assert.deepEqual(listed, [{ id: team.id, name: 'Team', source: 'local', members: 1 }]);
    const members = lines((await runQuire(['group', 'members', 'Team', '--data', data])).stdout);
    assert.deepEqual(
      members.map((m) => m.name),
      ['bob'],
    );
    assert.equal((await runQuire(['group', 'member', 'remove', 'Team', 'bob', '--data', data])).code, 0);
    const unknown = await runQuire(['group', 'member', 'add', 'Nope', 'bob', '--data', data]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no group named "Nope"/);
    assert.equal((await runQuire(['group', 'delete', 'Team', '--data', data])).code, 0);
    assert.equal((await runQuire(['group', 'list', '--data', data])).stdout.trim(), '');

    const storage = await openSqliteStorage(data);
    try {
      const types = (await storage.events.list({ limit: 20 })).map((e) => e.type).reverse();
      assert.deepEqual(types, ['group.created', 'group.member.added', 'group.member.removed', 'group.deleted']);
    } finally {
      await storage.close();
    }
  });

  it('disables and enables an account', async () => {
    const off = await runQuireJson<{ name: string; disabled: boolean }>(['user', 'disable', 'bob', '--data', data]);
    assert.deepEqual([off.name, off.disabled], ['bob', true]);
    const storage = await openSqliteStorage(data);
    try {
      const bob = await storage.users.findByKey('bob');
      assert.ok(bob?.disabledAt);
    } finally {
      await storage.close();
    }
    const on = await runQuireJson<{ disabled: boolean }>(['user', 'enable', 'bob', '--data', data]);
    assert.equal(on.disabled, false);
    const nobody = await runQuire(['user', 'disable', 'nobody', '--data', data]);
    assert.equal(nobody.code, 2);
  });
});
