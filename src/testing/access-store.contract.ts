import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AccessStore,
  FileNotFoundError,
  GroupExistsError,
  type Share,
  type ShareLink,
  type Storage,
} from '../storage/types.ts';
import { needsPeer, type StorageBackend } from './backend.ts';
import { freshStorePerTest, HOSTILE_IDS, MINUTE, newFileIn, T0 } from './fixture.ts';

function accessOf(storage: Storage): AccessStore {
  assert.ok(storage.access, 'this backend keeps shares, links and groups');
  return storage.access;
}

const shareOf = (fileId: string, extra: Partial<Share> = {}): Share => ({
  fileId,
  principal: { kind: 'user', id: 'bob' },
  role: 'viewer',
  secureView: null,
  createdAt: T0,
  createdBy: 'ann',
  ...extra,
});

const linkOf = (fileId: string, extra: Partial<ShareLink> = {}): ShareLink => ({
  id: `link-${Math.random().toString(36).slice(2)}`,
  fileId,
  role: 'editor',
  secureView: null,
  passwordHash: null,
  expiresAt: null,
  disabledAt: null,
  createdAt: T0,
  createdBy: 'ann',
  ...extra,
});

/**
 * The AccessStore contract: persistence of shares, links, guests, groups and sign-ins (who may do what is decided
 * above it, in access/). Changes write their event in the same transaction.
 */
export function accessStoreContract(backend: StorageBackend): void {
  describe(`AccessStore contract [${backend.name}]`, () => {
    const fx = freshStorePerTest(backend);

    it('a share is added, changed in place (role, secure view) and removed; each change is one event', async () => {
      const { storage } = fx();
      const access = accessOf(storage);
      const file = await newFileIn(storage);
      const seen: Array<[string | undefined, string]> = [];
      const event = ({ before, after }: { before: Share | null; after: Share }) => {
        seen.push([before?.role, after.role]);
        return { type: before ? 'share.changed' : 'share.added', fileId: after.fileId };
      };
      const added = await access.putShare(shareOf(file.id), event);
      assert.deepEqual(added, shareOf(file.id));
      const changed = await access.putShare(
        shareOf(file.id, { role: 'editor', secureView: { watermark: '{name}' }, createdAt: T0 + MINUTE }),
        event,
      );
      assert.equal(changed.role, 'editor');
      assert.deepEqual(changed.secureView, { watermark: '{name}' });
      assert.equal(changed.createdAt, T0, 'when it was first shared is kept');
      assert.deepEqual(seen, [
        [undefined, 'viewer'],
        ['viewer', 'editor'],
      ]);
      assert.deepEqual(await access.sharesOf(file.id), [changed]);

      const removed: string[] = [];
      assert.equal(
        await access.removeShare(file.id, { kind: 'user', id: 'bob' }, T0 + 2 * MINUTE, (s) => {
          removed.push(s.role);
          return { type: 'share.removed', fileId: s.fileId };
        }),
        true,
      );
      assert.deepEqual(removed, ['editor']);
      assert.deepEqual(await access.sharesOf(file.id), []);
      assert.equal(await access.removeShare(file.id, { kind: 'user', id: 'bob' }, T0), false, 'nothing left');
      const events = await storage.events.list({ fileId: file.id, limit: 10 });
      assert.deepEqual(
        events.map((e) => e.type),
        ['share.removed', 'share.changed', 'share.added'],
      );
    });

    it('sharesTo finds what is shared with a user and their groups, never with deleted files', async () => {
      const { storage } = fx();
      const access = accessOf(storage);
      const a = await newFileIn(storage, { name: 'a.docx' });
      const b = await newFileIn(storage, { name: 'b.docx' });
      const c = await newFileIn(storage, { name: 'c.docx' });
      await access.putShare(shareOf(a.id));
      await access.putShare(shareOf(b.id, { principal: { kind: 'group', id: 'g1' }, role: 'editor' }));
      await access.putShare(shareOf(c.id, { principal: { kind: 'user', id: 'carol' } }));
      const mine = await access.sharesTo([
        { kind: 'user', id: 'bob' },
        { kind: 'group', id: 'g1' },
      ]);
      assert.deepEqual(mine.map((s) => s.fileId).sort(), [a.id, b.id].sort());
      await storage.catalog.deleteFile(a.id, T0 + MINUTE, () => {});
      assert.deepEqual(
        (await access.sharesTo([{ kind: 'user', id: 'bob' }])).map((s) => s.fileId),
        [],
        'a deleted document is shared with nobody',
      );
      assert.deepEqual(await access.sharesTo([]), []);
    });

    it('sharingOf gives the shares and links of one owner’s live documents, or of every live document', async () => {
      const { storage } = fx();
      const access = accessOf(storage);
      const a = await newFileIn(storage, { name: 'a.docx', ownerId: 'ann' });
      const b = await newFileIn(storage, { name: 'b.docx', ownerId: 'ann' });
      const c = await newFileIn(storage, { name: 'c.docx', ownerId: 'carol' });
      await access.putShare(shareOf(a.id));
      await access.putShare(shareOf(a.id, { principal: { kind: 'group', id: 'g1' } }));
      await access.putShare(shareOf(c.id));
      const link = await access.createLink(linkOf(b.id));
      await access.createLink(linkOf(c.id));
      const anns = await access.sharingOf('ann');
      assert.deepEqual(anns.shares.map((s) => [s.fileId, `${s.principal.kind}:${s.principal.id}`]).sort(), [
        [a.id, 'group:g1'],
        [a.id, 'user:bob'],
      ]);
      assert.deepEqual(
        anns.links.map((l) => l.id),
        [link.id],
      );
      const everyone = await access.sharingOf(null);
      assert.equal(everyone.shares.length, 3);
      assert.equal(everyone.links.length, 2);
      await storage.catalog.deleteFile(a.id, T0 + MINUTE, () => {});
      assert.deepEqual((await access.sharingOf('ann')).shares, [], 'a deleted document is shared with nobody');
      for (const id of HOSTILE_IDS) assert.deepEqual(await access.sharingOf(id), { shares: [], links: [] });
    });

    it('sharing a missing or deleted file is refused with FileNotFoundError; hostile ids find nothing', async () => {
      const { storage } = fx();
      const access = accessOf(storage);
      const file = await newFileIn(storage);
      await storage.catalog.deleteFile(file.id, T0, () => {});
      await assert.rejects(access.putShare(shareOf(file.id)), FileNotFoundError);
      await assert.rejects(access.createLink(linkOf(file.id)), FileNotFoundError);
      for (const id of HOSTILE_IDS) {
        await assert.rejects(access.putShare(shareOf(id)), FileNotFoundError);
        assert.deepEqual(await access.sharesOf(id), []);
        assert.equal(await access.getLink(id), null);
        assert.equal(await access.getGroup(id), null);
        assert.equal(await access.getSignIn(id), null);
        assert.equal(await access.getGuest(id), null);
      }
    });

    it('a link is created, read, changed and disabled; its events are written with the change', async () => {
      const { storage } = fx();
      const access = accessOf(storage);
      const file = await newFileIn(storage);
      const link = linkOf(file.id, { expiresAt: T0 + 60 * MINUTE, passwordHash: 'hash' });
      await access.createLink(link, (l) => ({ type: 'link.created', fileId: l.fileId }));
      assert.deepEqual(await access.getLink(link.id), link);
      const disabled = await access.updateLink(
        link.id,
        { disabledAt: T0 + MINUTE, role: 'viewer' },
        T0 + MINUTE,
        ({ before, after }) => ({ type: 'link.changed', fileId: after.fileId, details: { was: before.role } }),
      );
      assert.deepEqual(disabled, { ...link, disabledAt: T0 + MINUTE, role: 'viewer' });
      assert.deepEqual(await access.getLink(link.id), disabled);
      assert.deepEqual(await access.linksOf(file.id), [disabled]);
      assert.equal(await access.updateLink('no-such-link', { disabledAt: T0 }, T0), null);
      const events = await storage.events.list({ fileId: file.id, limit: 10 });
      assert.deepEqual(
        events.map((e) => [e.type, e.details]),
        [
          ['link.changed', { was: 'editor' }],
          ['link.created', undefined],
        ],
      );
    });

    it(
      "a link's guest keeps one id per name, without regard to case, even when first visits race",
      needsPeer(backend),
      async () => {
        const { storage, peer } = fx();
        const access = accessOf(storage);
        const other = accessOf(await peer());
        const file = await newFileIn(storage);
        const link = await access.createLink(linkOf(file.id));
        const racing = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 ? other : access).guest(link.id, 'Dora', 'dora', T0)),
        );
        assert.equal(new Set(racing.map((g) => g.id)).size, 1, 'one guest');
        const again = await access.guest(link.id, 'DORA', 'dora', T0 + MINUTE);
        assert.equal(again.id, racing[0]?.id);
        assert.equal(again.name, 'Dora', 'the first spelling is kept');
        const someoneElse = await access.guest(link.id, 'Emil', 'emil', T0);
        assert.notEqual(someoneElse.id, again.id);
        const otherLink = await access.createLink(linkOf(file.id));
        assert.notEqual((await access.guest(otherLink.id, 'Dora', 'dora', T0)).id, again.id, 'per link');
        assert.deepEqual(await access.getGuest(again.id), { id: again.id, linkId: link.id, name: 'Dora' });
      },
    );

    it('groups: unique names without case, members, groupsOf; deleting one removes its members and shares', async () => {
      const { storage } = fx();
      const access = accessOf(storage);
      const file = await newFileIn(storage);
      const team = await access.createGroup({ name: 'Team', nameKey: 'team', source: 'local', createdAt: T0 });
      await assert.rejects(
        access.createGroup({ name: 'TEAM', nameKey: 'team', source: 'local', createdAt: T0 }),
        GroupExistsError,
      );
      const ops = await access.createGroup({ name: 'Ops', nameKey: 'ops', source: 'provider', createdAt: T0 });
      assert.deepEqual(await access.getGroup(team.id), team);
      assert.deepEqual(await access.findGroup('ops'), ops);
      assert.deepEqual(
        (await access.listGroups()).map((g) => g.name),
        ['Ops', 'Team'],
      );
      await access.addMember(team.id, 'bob');
      await access.addMember(team.id, 'bob');
      await access.addMember(team.id, 'carol');
      await access.addMember(ops.id, 'bob');
      assert.deepEqual(await access.members(team.id), ['bob', 'carol']);
      assert.deepEqual(
        (await access.groupsOf('bob')).map((g) => g.name),
        ['Ops', 'Team'],
      );
      assert.equal(await access.removeMember(team.id, 'carol'), true);
      assert.equal(await access.removeMember(team.id, 'carol'), false);
      await access.putShare(shareOf(file.id, { principal: { kind: 'group', id: team.id } }));
      assert.equal(
        await access.deleteGroup(team.id, T0, (g) => ({ type: 'group.deleted', details: { name: g.name } })),
        true,
      );
      assert.equal(await access.getGroup(team.id), null);
      assert.deepEqual(await access.members(team.id), []);
      assert.deepEqual(await access.sharesOf(file.id), [], "the group's shares went with it");
      assert.deepEqual(
        (await access.groupsOf('bob')).map((g) => g.name),
        ['Ops'],
      );
      assert.equal(await access.deleteGroup(team.id, T0), false);
    });

    it('sign-ins: started, read, ended once; ending all of a user ends only theirs', async () => {
      const { storage } = fx();
      const access = accessOf(storage);
      await access.startSignIn({ id: 's1', userId: 'bob', createdAt: T0, expiresAt: T0 + 60 * MINUTE });
      await access.startSignIn({ id: 's2', userId: 'bob', createdAt: T0, expiresAt: T0 + 60 * MINUTE });
      await access.startSignIn({ id: 's3', userId: 'carol', createdAt: T0, expiresAt: T0 + 60 * MINUTE });
      assert.deepEqual(await access.getSignIn('s1'), {
        id: 's1',
        userId: 'bob',
        createdAt: T0,
        expiresAt: T0 + 60 * MINUTE,
        endedAt: null,
      });
      await access.endSignIn('s1', T0 + MINUTE);
      await access.endSignIn('s1', T0 + 2 * MINUTE);
      assert.equal((await access.getSignIn('s1'))?.endedAt, T0 + MINUTE, 'ended once');
      assert.equal(await access.endSignInsOf('bob', T0 + 3 * MINUTE), 1);
      assert.equal((await access.getSignIn('s2'))?.endedAt, T0 + 3 * MINUTE);
      assert.equal((await access.getSignIn('s3'))?.endedAt, null);
    });
  });
}
