import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { User } from '../src/storage/types.ts';
import { apiAs, signIn, startHost, storageKinds, type TestHost, WopiClient } from './helpers/host.ts';
import { lockOf } from './helpers/misc-helpers.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

/** The token the host page carries for `cookie`'s user (minted in their sign-in, with their role). */
async function hostPageToken(host: TestHost, cookie: string, fileId: string, action = 'edit') {
  const res = await fetch(`${host.url}/files/${fileId}/open?action=${action}`, {
    headers: { cookie },
    redirect: 'manual',
  });
  const html = await res.text();
  return { status: res.status, token: html.match(/name="access_token" value="([^"]+)"/)?.[1] };
}

interface FileView {
  id: string;
  name: string;
  role?: string;
  via?: string;
  secureView?: boolean;
}

for (const kind of storageKinds) {
  describe(`sharing with people, groups and links [${kind.name}]`, () => {
    let host: TestHost;
    let editor: StandInEditor;
    const people: Record<string, { cookie: string; user: User }> = {};
    let teamId: string;

    before(async () => {
      editor = await startStandInEditor();
      host = await startHost({ storageKind: kind, editor: { url: editor.url } });
      await host.quire.editor.current();
      for (const name of ['ann', 'bob', 'carol', 'dave']) people[name] = await signIn(host, name);
      people.root = await signIn(host, 'root', { isAdmin: true });
      const team = await as('root')('/api/admin/groups', { method: 'POST', body: JSON.stringify({ name: 'Team' }) });
      assert.equal(team.status, 201, team.text);
      teamId = (team.json as { id: string }).id;
      const joined = await as('root')(`/api/admin/groups/${teamId}/members/${people.dave?.user.id}`, { method: 'PUT' });
      assert.equal(joined.status, 204, joined.text);
    });
    after(async () => {
      await host?.close();
      await editor?.close();
    });

    const as = (name: string) => {
      const who = people[name];
      assert.ok(who, name);
      return apiAs(host, who.cookie, { 'Content-Type': 'application/json' });
    };
    const annFile = async (name: string, content = 'v1') => host.addFile(name, content, people.ann?.user.id);
    const share = (fileId: string, body: Record<string, unknown>, by = 'ann') =>
      as(by)(`/api/files/${fileId}/shares`, { method: 'PUT', body: JSON.stringify(body) });
    /** Lets the revocation check's one-second memory pass. */
    const aSecondLater = () => host.clock.advance(1001);

    it('a document is its owner’s: others neither list nor open it (404), and cannot share it', async () => {
      const id = await annFile('Private plan.docx');
      assert.ok(((await as('ann')('/api/files?scope=mine')).json as FileView[]).some((f) => f.id === id));
      assert.ok(!((await as('bob')('/api/files')).json as FileView[]).some((f) => f.id === id), 'not listed for bob');
      assert.equal((await as('bob')(`/api/files/${id}`)).status, 404);
      assert.equal((await as('bob')(`/api/files/${id}/content`)).status, 404);
      assert.equal((await as('bob')(`/api/files/${id}/versions`)).status, 404);
      assert.equal((await hostPageToken(host, people.bob?.cookie as string, id)).status, 404);
      const refused = await share(id, { user: 'carol', role: 'editor' }, 'bob');
      assert.equal(refused.status, 404, refused.text);
      // an admin sees and manages everything
      assert.equal(((await as('root')(`/api/files/${id}`)).json as FileView).via, 'admin');
    });

    it('shared as viewer: listed under "shared", opened read-only, no rename or delete; a group share as editor edits', async () => {
      const id = await annFile('Budget.xlsx');
      const shared = await share(id, { user: 'bob', role: 'viewer' });
      assert.equal(shared.status, 200, shared.text);
      assert.deepEqual((shared.json as { principal: unknown }).principal, {
        kind: 'user',
        id: people.bob?.user.id,
        name: 'User bob',
      });
      const listed = ((await as('bob')('/api/files?scope=shared')).json as FileView[]).find((f) => f.id === id);
      assert.deepEqual(
        { role: listed?.role, via: listed?.via, secureView: listed?.secureView },
        { role: 'viewer', via: 'share', secureView: false },
      );
      assert.ok(!((await as('bob')('/api/files?scope=mine')).json as FileView[]).some((f) => f.id === id));
      assert.equal((await as('bob')(`/api/files/${id}/content`)).status, 200, 'a viewer may download');
      const rename = await as('bob')(`/api/files/${id}/rename`, { method: 'POST', body: '{"name":"Mine.xlsx"}' });
      assert.equal(rename.status, 403, rename.text);
      assert.match((rename.json as { error: string }).error, /viewer/);
      assert.equal((await as('bob')(`/api/files/${id}`, { method: 'DELETE' })).status, 403);

      // the host page gives bob a viewer's token: no writing, no lock
      const { token } = await hostPageToken(host, people.bob?.cookie as string, id, 'edit');
      assert.ok(token);
      const c = new WopiClient(host.url, id, token);
      const info = (await c.checkFileInfo()).json as Record<string, unknown>;
      assert.equal(info.UserCanWrite, false);
      assert.equal(info.ReadOnly, true);
      assert.equal((await c.lock('BOB')).status, 401);
      assert.equal((await c.putFile('changed', { 'X-WOPI-Lock': 'BOB' })).status, 401);

      // the group Team (dave) as editor
      assert.equal((await share(id, { group: 'team', role: 'editor' })).status, 200);
      const renamed = await as('dave')(`/api/files/${id}/rename`, {
        method: 'POST',
        body: '{"name":"Budget 2027.xlsx"}',
      });
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal((renamed.json as FileView).via, 'group');
      assert.equal((await as('dave')(`/api/files/${id}`, { method: 'DELETE' })).status, 403, 'only the owner deletes');
      const dc = new WopiClient(
        host.url,
        id,
        (await hostPageToken(host, people.dave?.cookie as string, id)).token as string,
      );
      assert.equal((await dc.lock('DAVE')).status, 200);
      assert.equal((await dc.putFile('v2', { 'X-WOPI-Lock': 'DAVE' })).status, 200);
      assert.equal((await dc.deleteFile()).status, 401, 'an editor token may not delete');
      assert.equal((await dc.unlock('DAVE')).status, 200);

      const access = (await as('bob')(`/api/files/${id}/access`)).json as {
        you: { role: string; manages: boolean };
        shares: Array<{ principal: { kind: string; name: string }; role: string }>;
        links?: unknown;
      };
      assert.deepEqual(access.you, { role: 'viewer', via: 'share', secureView: false, manages: false });
      assert.deepEqual(access.shares.map((s) => [s.principal.kind, s.principal.name, s.role]).sort(), [
        ['group', 'Team', 'editor'],
        ['user', 'User bob', 'viewer'],
      ]);
      assert.equal(access.links, undefined, 'links are for those who manage the document');
    });

    it('removing a share ends the editor session it opened: the next WOPI call gets 401 and changes nothing', async () => {
      const id = await annFile('Revoked.docx', 'original');
      assert.equal((await share(id, { user: 'carol', role: 'editor' })).status, 200);
      const { token } = await hostPageToken(host, people.carol?.cookie as string, id);
      const c = new WopiClient(host.url, id, token as string);
      assert.equal((await c.lock('CAROL')).status, 200);
      assert.equal((await c.putFile('carol was here', { 'X-WOPI-Lock': 'CAROL' })).status, 200);

      const removed = await as('ann')(`/api/files/${id}/shares/user/${people.carol?.user.id}`, { method: 'DELETE' });
      assert.equal(removed.status, 204, removed.text);
      aSecondLater();
      const late = await c.putFile('after removal', { 'X-WOPI-Lock': 'CAROL' });
      assert.equal(late.status, 401, late.text);
      assert.equal((await c.checkFileInfo()).status, 401);
      const owner = await host.client(id, await host.token(id, { userId: people.ann?.user.id as string }));
      assert.equal((await owner.content()).toString(), 'carol was here', 'nothing changed by the refused save');
      assert.equal(lockOf(await owner.getLock()), 'CAROL', 'the lock stays until it expires or is broken');
      const events = (await as('ann')(`/api/files/${id}/events?limit=20`)).json as Array<{ type: string }>;
      assert.ok(events.some((e) => e.type === 'share.removed'));
    });

    it('lowering a share from editor to viewer ends edit tokens; signing out ends the sign-in’s tokens', async () => {
      const id = await annFile('Lowered.docx');
      assert.equal((await share(id, { user: 'bob', role: 'editor' })).status, 200);
      const bobEdit = new WopiClient(
        host.url,
        id,
        (await hostPageToken(host, people.bob?.cookie as string, id)).token as string,
      );
      assert.equal((await bobEdit.checkFileInfo()).status, 200);
      assert.equal((await share(id, { user: 'bob', role: 'viewer' })).status, 200);
      aSecondLater();
      assert.equal((await bobEdit.checkFileInfo()).status, 401, 'an editor token outlives no downgrade');

      // a fresh sign-in of dave (group editor of nothing here: give him a share), then sign out
      assert.equal((await share(id, { user: 'dave', role: 'viewer' })).status, 200);
      const fresh = await signIn(host, 'dave');
      const viewer = new WopiClient(
        host.url,
        id,
        (await hostPageToken(host, fresh.cookie, id, 'view')).token as string,
      );
      assert.equal((await viewer.checkFileInfo()).status, 200);
      const out = await fetch(`${host.url}/logout`, {
        method: 'POST',
        headers: { cookie: fresh.cookie },
        redirect: 'manual',
      });
      assert.equal(out.status, 303);
      assert.equal((await apiAs(host, fresh.cookie)('/api/me')).status, 401, 'a copied cookie stops working at once');
      aSecondLater();
      assert.equal((await viewer.checkFileInfo()).status, 401, 'tokens minted in that sign-in end with it');
      // dave's other sign-in is untouched
      assert.equal((await as('dave')('/api/me')).status, 200);
    });

    it('secure view: the document is listed as such and its bytes are not handed out by the API', async () => {
      const id = await annFile('Salaries.xlsx');
      const res = await share(id, { user: 'carol', role: 'viewer', secureView: { watermark: '{name} {date}' } });
      assert.equal(res.status, 200, res.text);
      const view = (await as('carol')(`/api/files/${id}`)).json as FileView;
      assert.equal(view.secureView, true);
      const download = await as('carol')(`/api/files/${id}/content`);
      assert.equal(download.status, 403, download.text);
      assert.equal((await as('carol')(`/api/files/${id}/versions/1/content`)).status, 403);
      const bad = await share(id, { user: 'carol', role: 'viewer', secureView: { watermark: 'x'.repeat(500) } });
      assert.equal(bad.status, 400);
    });

    it('links: made by the owner only, listed to managers, changed and disabled; a disabled link ends its tokens', async () => {
      const id = await annFile('Linked.docx');
      assert.equal(
        (await as('bob')(`/api/files/${id}/links`, { method: 'POST', body: '{"role":"editor"}' })).status,
        404,
      );
      const made = await as('ann')(`/api/files/${id}/links`, {
        method: 'POST',
        body: JSON.stringify({ role: 'editor', password: 'open sesame', expiresAt: host.clock.now() + 86_400_000 }),
      });
      assert.equal(made.status, 201, made.text);
      const link = made.json as { id: string; url: string; hasPassword: boolean; role: string; disabled: boolean };
      assert.equal(link.hasPassword, true);
      assert.equal(link.url, `/s/${link.id}`);
      assert.ok(link.id.length >= 24, 'unguessable');
      const listed = (await as('ann')(`/api/files/${id}/access`)).json as { links: Array<{ id: string }> };
      assert.deepEqual(
        listed.links.map((l) => l.id),
        [link.id],
      );

      // a guest's token through this link
      const guest = await host.quire.host.storage.access?.guest(link.id, 'Dora', 'dora', host.clock.now());
      assert.ok(guest);
      const minted = await host.quire.host.tokens.mint({
        fileId: id,
        userId: guest.id,
        userName: guest.name,
        role: 'editor',
        permissions: { write: true, rename: true, delete: false, writeRelative: false },
        linkId: link.id,
      });
      const g = new WopiClient(host.url, id, minted.access_token);
      assert.equal((await g.checkFileInfo()).status, 200);
      const lowered = await as('ann')(`/api/files/${id}/links/${link.id}`, {
        method: 'PATCH',
        body: '{"role":"viewer"}',
      });
      assert.equal((lowered.json as { role: string }).role, 'viewer');
      aSecondLater();
      assert.equal((await g.checkFileInfo()).status, 401, 'the link gives less than the token carried');

      const viewerToken = await host.quire.host.tokens.mint({
        fileId: id,
        userId: guest.id,
        userName: guest.name,
        role: 'viewer',
        permissions: { write: false, rename: false, delete: false, writeRelative: false },
        linkId: link.id,
      });
      const gv = new WopiClient(host.url, id, viewerToken.access_token);
      assert.equal((await gv.checkFileInfo()).status, 200);
      const disabled = await as('ann')(`/api/files/${id}/links/${link.id}`, {
        method: 'PATCH',
        body: '{"disabled":true}',
      });
      assert.equal((disabled.json as { disabled: boolean }).disabled, true);
      aSecondLater();
      assert.equal((await gv.checkFileInfo()).status, 401, 'disabled at once');
      const types = ((await as('ann')(`/api/files/${id}/events?limit=20`)).json as Array<{ type: string }>).map(
        (e) => e.type,
      );
      assert.deepEqual(
        types.filter((t) => t.startsWith('link.')),
        ['link.changed', 'link.changed', 'link.created'],
      );
    });

    it('an admin disables an account: its sign-ins and editor sessions end, it cannot sign in; enabled again, it can', async () => {
      const id = await annFile('Team notes.docx');
      assert.equal((await share(id, { user: 'carol', role: 'editor' })).status, 200);
      const carol = await signIn(host, 'carol');
      const c = new WopiClient(host.url, id, (await hostPageToken(host, carol.cookie, id)).token as string);
      assert.equal((await c.checkFileInfo()).status, 200);
      const refused = await as('bob')(`/api/admin/users/${people.carol?.user.id}`, {
        method: 'PATCH',
        body: '{"disabled":true}',
      });
      assert.equal(refused.status, 403);
      const disabled = await as('root')(`/api/admin/users/${people.carol?.user.id}`, {
        method: 'PATCH',
        body: '{"disabled":true}',
      });
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal((disabled.json as { disabled: boolean }).disabled, true);
      assert.equal((await apiAs(host, carol.cookie)('/api/me')).status, 401);
      aSecondLater();
      assert.equal((await c.checkFileInfo()).status, 401);
      const login = await fetch(`${host.url}/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'carol', password: 'correct horse 1' }).toString(),
        redirect: 'manual',
      });
      assert.equal(login.status, 401, 'a disabled account cannot sign in');
      await login.arrayBuffer();
      await as('root')(`/api/admin/users/${people.carol?.user.id}`, { method: 'PATCH', body: '{"disabled":false}' });
      people.carol = await signIn(host, 'carol');
    });

    it('non-admins read the events of documents they can see, and their own, nothing else', async () => {
      const hidden = await annFile('Hidden.docx');
      const visible = await annFile('Visible.docx');
      assert.equal((await share(visible, { user: 'bob', role: 'viewer' })).status, 200);
      const bobs = (await as('bob')('/api/events?limit=1000')).json as Array<{ fileId?: string }>;
      assert.ok(bobs.some((e) => e.fileId === visible));
      assert.ok(!bobs.some((e) => e.fileId === hidden), 'no events of a document bob cannot see');
      assert.equal((await as('bob')(`/api/files/${hidden}/events`)).status, 404);
      const roots = (await as('root')('/api/events?limit=1000')).json as Array<{ fileId?: string }>;
      assert.ok(
        roots.some((e) => e.fileId === hidden),
        'an admin reads everything',
      );
    });
  });
}

describe('commenters: comments where the editor has a comment-only mode, read-only elsewhere', () => {
  for (const flavour of ['collabora', 'onlyoffice', 'microsoft'] as const) {
    it(`[${flavour}]`, async () => {
      const editor = await startStandInEditor();
      const host = await startHost({ editor: { url: editor.url, flavour } });
      try {
        await host.quire.editor.current();
        const ann = await signIn(host, 'ann');
        const bob = await signIn(host, 'bob');
        const id = await host.addFile('Review me.docx', 'draft', ann.user.id);
        const shared = await apiAs(host, ann.cookie, { 'Content-Type': 'application/json' })(
          `/api/files/${id}/shares`,
          { method: 'PUT', body: JSON.stringify({ user: 'bob', role: 'commenter' }) },
        );
        assert.equal(shared.status, 200, shared.text);
        const { status, token } = await hostPageToken(host, bob.cookie, id, 'edit');
        assert.equal(status, 200);
        const c = new WopiClient(host.url, id, token as string);
        const info = (await c.checkFileInfo()).json as Record<string, unknown>;
        assert.equal(info.UserCanWrite, false, 'a commenter never edits');
        assert.equal(info.UserCanRename, false);
        const commentOnly = flavour !== 'microsoft';
        assert.equal(info.UserCanOnlyComment === true, commentOnly);
        // saving comments needs the lock and PutFile where comment-only exists; nothing at all elsewhere
        assert.equal((await c.lock('BOB')).status, commentOnly ? 200 : 401);
        assert.equal((await c.putFile('draft + a comment', { 'X-WOPI-Lock': 'BOB' })).status, commentOnly ? 200 : 401);
        assert.equal((await c.rename('Mine')).status, 401, 'no renaming');
        assert.equal((await c.putRelative('copy', { 'X-WOPI-SuggestedTarget': '.docx' })).status, 501, 'no copies');
      } finally {
        await host.close();
        await editor.close();
      }
    });
  }
});
