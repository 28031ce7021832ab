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

interface Frame {
  type: string;
  fileId?: string;
  details?: Record<string, unknown>;
}

interface Follow {
  frames: Frame[];
  waitFor(what: string, found: (frame: Frame) => boolean, ms?: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  whenEnded(ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Follows /api/events/stream as `cookie`'s user, as a page does, keeping every event it carries. */
async function follow(host: TestHost, cookie: string): Promise<Follow> {
  const abort = new AbortController();
  const res = await fetch(`${host.url}/api/events/stream`, {
    headers: { Cookie: cookie, Accept: 'text/event-stream' },
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  const frames: Frame[] = [];
  let ended = false;
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(buffered.slice(0, end))?.[1];
          buffered = buffered.slice(end + 2);
          if (data) frames.push(JSON.parse(data) as Frame);
        }
      }
      ended = true;
    } catch {
      // aborted by close()
    }
  })();
  const until = async (done: () => boolean, what: string, ms: number) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline)
        assert.fail(`${what} within ${ms} ms; heard ${JSON.stringify(frames.map((f) => f.type))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    frames,
    waitFor: (what, found, ms = 10_000) => until(() => frames.some(found), `did not hear ${what}`, ms),
    whenEnded: (ms = 10_000) => until(() => ended, 'the stream did not end', ms),
    close: async () => {
      abort.abort();
      await reading;
    },
  };
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

    it('a share’s secure view is turned on, its watermark changed and turned off in place, keeping its role', async () => {
      const id = await annFile('Board minutes.docx');
      assert.equal((await share(id, { user: 'bob', role: 'commenter' })).status, 200);
      const shareOfBob = async () =>
        (
          (await as('ann')(`/api/files/${id}/access`)).json as {
            shares: Array<{ principal: { id: string }; role: string; secureView: { watermark: string } | null }>;
          }
        ).shares.find((s) => s.principal.id === people.bob?.user.id);
      const on = await share(id, { user: 'bob', role: 'commenter', secureView: { watermark: 'Board · {name}' } });
      assert.equal(on.status, 200, on.text);
      assert.deepEqual(await shareOfBob().then((s) => [s?.role, s?.secureView]), [
        'commenter',
        { watermark: 'Board · {name}' },
      ]);
      assert.equal(((await as('bob')(`/api/files/${id}`)).json as FileView).secureView, true);
      assert.equal((await as('bob')(`/api/files/${id}/content`)).status, 403, 'no download under secure view');
      const edited = await share(id, { user: 'bob', role: 'commenter', secureView: { watermark: '{name} {date}' } });
      assert.equal(edited.status, 200, edited.text);
      assert.deepEqual((await shareOfBob())?.secureView, { watermark: '{name} {date}' });
      // bad input changes nothing
      const bad = await share(id, { user: 'bob', role: 'commenter', secureView: { watermark: 'a\u0007b' } });
      assert.equal(bad.status, 400, bad.text);
      assert.deepEqual((await shareOfBob())?.secureView, { watermark: '{name} {date}' });
      const off = await share(id, { user: 'bob', role: 'commenter', secureView: false });
      assert.equal(off.status, 200, off.text);
      assert.deepEqual(await shareOfBob().then((s) => [s?.role, s?.secureView]), ['commenter', null]);
      assert.equal((await as('bob')(`/api/files/${id}/content`)).status, 200, 'downloads again');
      const changes = ((await as('ann')(`/api/files/${id}/events?limit=20`)).json as Array<{ type: string }>).filter(
        (e) => e.type.startsWith('share.'),
      );
      assert.deepEqual(
        changes.map((e) => e.type),
        ['share.changed', 'share.changed', 'share.changed', 'share.added'],
      );
    });

    it('a link is edited in place: expiry, password, secure view, role; bad input changes nothing; expiry shows', async () => {
      const id = await annFile('Handbook.docx');
      const made = await as('ann')(`/api/files/${id}/links`, { method: 'POST', body: '{"role":"viewer"}' });
      assert.equal(made.status, 201, made.text);
      const linkId = (made.json as { id: string }).id;
      type LinkView = {
        role: string;
        hasPassword: boolean;
        expiresAt: string | null;
        expired: boolean;
        disabled: boolean;
        secureView: { watermark: string } | null;
      };
      const patch = async (body: unknown) => {
        const res = await as('ann')(`/api/files/${id}/links/${linkId}`, {
          method: 'PATCH',
          body: JSON.stringify(body),
        });
        return { ...res, link: res.json as LinkView };
      };
      const listed = async () =>
        ((await as('ann')(`/api/files/${id}/access`)).json as { links: Array<LinkView & { id: string }> }).links.find(
          (l) => l.id === linkId,
        );
      assert.deepEqual((made.json as LinkView).expired, false);
      const stored = () => host.quire.host.storage.access?.getLink(linkId);
      const day = 86_400_000;

      // expiry: set, changed, removed
      const until = host.clock.now() + 2 * day;
      let res = await patch({ expiresAt: new Date(until).toISOString() });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.link.expiresAt, new Date(until).toISOString());
      res = await patch({ expiresAt: until + day });
      assert.equal(res.link.expiresAt, new Date(until + day).toISOString());
      res = await patch({ expiresAt: null });
      assert.equal(res.link.expiresAt, null);
      // password: set, changed (the old one no longer opens it), removed
      res = await patch({ password: 'first pass' });
      assert.equal(res.link.hasPassword, true);
      const sharing = host.quire.sharing;
      const link = async () => (await stored()) as NonNullable<Awaited<ReturnType<typeof stored>>>;
      assert.equal(await sharing.linkPasswordMatches(await link(), 'first pass'), true);
      res = await patch({ password: 'second pass' });
      assert.equal(await sharing.linkPasswordMatches(await link(), 'first pass'), false);
      assert.equal(await sharing.linkPasswordMatches(await link(), 'second pass'), true);
      res = await patch({ password: null });
      assert.equal(res.link.hasPassword, false);
      // secure view and its watermark, then off; the role
      res = await patch({ secureView: { watermark: 'Guest {name}' } });
      assert.deepEqual(res.link.secureView, { watermark: 'Guest {name}' });
      res = await patch({ secureView: false, role: 'commenter' });
      assert.deepEqual([res.link.secureView, res.link.role], [null, 'commenter']);

      // refused, with a reason, changing nothing
      const before = await listed();
      for (const [body, reason] of [
        [{}, /say what to change/],
        [{ expiresAt: host.clock.now() - 1000 }, /future/],
        [{ expiresAt: 'next tuesday' }, /time/],
        [{ password: 'abc' }, /4 to 1024/],
        [{ role: 'owner' }, /role/],
        [{ disabled: 'yes' }, /true or false/],
        [{ secureView: { watermark: 7 } }, /watermark/],
      ] as const) {
        const refused = await patch(body);
        assert.equal(refused.status, 400, `${JSON.stringify(body)}: ${refused.text}`);
        assert.match((refused.json as { error: string }).error, reason);
      }
      assert.deepEqual(await listed(), before, 'nothing changed by the refusals');
      assert.equal(
        (await as('bob')(`/api/files/${id}/links/${linkId}`, { method: 'PATCH', body: '{"role":"editor"}' })).status,
        404,
      );
      assert.equal(
        (await as('ann')(`/api/files/${id}/links/nope`, { method: 'PATCH', body: '{"role":"editor"}' })).status,
        404,
      );

      // an expired link is shown as expired (not as disabled); a new expiry revives it
      res = await patch({ expiresAt: host.clock.now() + 60_000 });
      host.clock.advance(60_001);
      assert.deepEqual(await listed().then((l) => [l?.expired, l?.disabled]), [true, false]);
      res = await patch({ expiresAt: host.clock.now() + day });
      assert.equal(res.link.expired, false);
      // disabled, then enabled
      res = await patch({ disabled: true });
      assert.deepEqual([res.link.disabled, res.link.expired], [true, false]);
      res = await patch({ disabled: false });
      assert.equal(res.link.disabled, false);
    });

    it('the document list gives each document its owner manages a sharing summary, from a fixed number of reads', async () => {
      const shared = await annFile('Summary shared.docx');
      const linked = await annFile('Summary linked.docx');
      const alone = await annFile('Summary alone.docx');
      assert.equal((await share(shared, { user: 'bob', role: 'viewer' })).status, 200);
      assert.equal((await share(shared, { group: 'team', role: 'editor' })).status, 200);
      const link = async (body: Record<string, unknown>) =>
        (await as('ann')(`/api/files/${linked}/links`, { method: 'POST', body: JSON.stringify(body) })).json as {
          id: string;
        };
      await link({ role: 'viewer' });
      const off = await link({ role: 'editor' });
      await as('ann')(`/api/files/${linked}/links/${off.id}`, { method: 'PATCH', body: '{"disabled":true}' });
      type Summary = { shares: Array<{ kind: string; name: string; role: string }>; links: number };
      const mine = (await as('ann')('/api/files?scope=mine')).json as Array<FileView & { sharing?: Summary }>;
      const of = (id: string) => mine.find((f) => f.id === id)?.sharing;
      assert.deepEqual(
        of(shared)
          ?.shares.map((s) => `${s.kind}:${s.name}:${s.role}`)
          .sort(),
        ['group:Team:editor', 'user:User bob:viewer'],
      );
      assert.equal(of(shared)?.links, 0);
      assert.deepEqual(of(linked), { shares: [], links: 1 }, 'a disabled link shares nothing');
      assert.deepEqual(of(alone), { shares: [], links: 0 });
      // not for those who do not manage it; an admin sees every document's
      const bobs = (await as('bob')('/api/files?scope=shared')).json as Array<FileView & { sharing?: Summary }>;
      assert.ok(bobs.some((f) => f.id === shared));
      assert.ok(
        bobs.every((f) => f.sharing === undefined),
        'who else has it is not in a viewer’s list',
      );
      const roots = (await as('root')('/api/files')).json as Array<FileView & { sharing?: Summary }>;
      assert.equal(roots.find((f) => f.id === shared)?.sharing?.shares.length, 2);
      // an admin's "shared with me" is what was shared with them, not everything they may see
      assert.equal((await share(alone, { user: 'root', role: 'viewer' })).status, 200);
      const rootShared = (await as('root')('/api/files?scope=shared')).json as FileView[];
      assert.deepEqual(
        rootShared.map((f) => f.id),
        [alone],
      );

      // one read for the list's shares, not one per document
      const storage = host.quire.host.storage;
      const access = storage.access as NonNullable<typeof storage.access>;
      const counted = { sharesOf: 0, sharingOf: 0 };
      const originals = { sharesOf: access.sharesOf, sharingOf: access.sharingOf };
      access.sharesOf = (...a) => {
        counted.sharesOf++;
        return originals.sharesOf.apply(access, a);
      };
      access.sharingOf = (...a) => {
        counted.sharingOf++;
        return originals.sharingOf.apply(access, a);
      };
      try {
        const res = await as('ann')('/api/files?scope=mine');
        assert.ok((res.json as unknown[]).length >= 3);
      } finally {
        Object.assign(access, originals);
      }
      assert.deepEqual(counted, { sharesOf: 0, sharingOf: 1 });
    });

    it('live: a document leaving someone’s view reaches their open stream; nobody hears of documents they never had', async () => {
      const kept = await annFile('Live kept.docx');
      const byShare = await annFile('Live by share.docx');
      const byGroup = await annFile('Live by group.docx');
      const byDeletion = await annFile('Live deleted.docx');
      const never = await annFile('Live never.docx');
      assert.equal((await share(kept, { user: 'bob', role: 'viewer' })).status, 200);
      assert.equal((await share(byShare, { user: 'bob', role: 'viewer' })).status, 200);
      assert.equal((await share(byDeletion, { user: 'bob', role: 'viewer' })).status, 200);
      assert.equal((await share(byGroup, { group: 'team', role: 'editor' })).status, 200);
      const bob = await follow(host, people.bob?.cookie as string);
      const dave = await follow(host, people.dave?.cookie as string);
      try {
        // bob loses his share; dave loses his group's; a document bob never had comes and goes for carol
        assert.equal(
          (await as('ann')(`/api/files/${byShare}/shares/user/${people.bob?.user.id}`, { method: 'DELETE' })).status,
          204,
        );
        assert.equal(
          (await as('ann')(`/api/files/${byGroup}/shares/group/${teamId}`, { method: 'DELETE' })).status,
          204,
        );
        assert.equal((await share(never, { user: 'carol', role: 'viewer' })).status, 200);
        assert.equal(
          (await as('ann')(`/api/files/${never}/shares/user/${people.carol?.user.id}`, { method: 'DELETE' })).status,
          204,
        );
        await bob.waitFor('the removal of his share', (f) => f.type === 'share.removed' && f.fileId === byShare);
        await dave.waitFor(
          'the removal of his group’s share',
          (f) => f.type === 'share.removed' && f.fileId === byGroup,
        );
        // after leaving his view, the document's news stops reaching him
        const renamed = await as('ann')(`/api/files/${byShare}/rename`, {
          method: 'POST',
          body: '{"name":"Gone.docx"}',
        });
        assert.equal(renamed.status, 200, renamed.text);
        assert.equal((await as('ann')(`/api/files/${byDeletion}`, { method: 'DELETE' })).status, 204);
        await bob.waitFor('the deletion', (f) => f.type === 'file.deleted' && f.fileId === byDeletion);
        // a marker: what bob still sees still reaches him, after everything above
        await as('ann')(`/api/files/${kept}/rename`, { method: 'POST', body: '{"name":"Live kept 2.docx"}' });
        await bob.waitFor('the marker', (f) => f.type === 'file.renamed' && f.fileId === kept);
        const heard = (stream: Follow) => new Set(stream.frames.map((f) => f.fileId).filter(Boolean));
        assert.ok(!heard(bob).has(never), 'bob never had that document');
        assert.ok(!heard(bob).has(byGroup), 'nor that one');
        assert.ok(!heard(dave).has(byShare) && !heard(dave).has(never), 'dave neither');
        assert.ok(
          !bob.frames.some((f) => f.type === 'file.renamed' && f.fileId === byShare),
          'no news of a document after it left his view',
        );

        // dave taken out of the group: his stream hears it (it is about him), bob's does not
        const removed = await as('root')(`/api/admin/groups/${teamId}/members/${people.dave?.user.id}`, {
          method: 'DELETE',
        });
        assert.equal(removed.status, 204, removed.text);
        await dave.waitFor('his leaving the group', (f) => f.type === 'group.member.removed');
        await as('root')(`/api/admin/groups/${teamId}/members/${people.dave?.user.id}`, { method: 'PUT' });
        await dave.waitFor('his joining the group', (f) => f.type === 'group.member.added');
        await as('ann')(`/api/files/${kept}/rename`, { method: 'POST', body: '{"name":"Live kept 3.docx"}' });
        await bob.waitFor(
          'the second marker',
          (f) => f.type === 'file.renamed' && f.details?.to === 'Live kept 3.docx',
        );
        assert.ok(!bob.frames.some((f) => f.type.startsWith('group.')), 'nothing of a group bob is not in');
      } finally {
        await bob.close();
        await dave.close();
      }

      // a disabled person's stream ends
      const erin = await signIn(host, 'erin');
      const stream = await follow(host, erin.cookie);
      try {
        const disabled = await as('root')(`/api/admin/users/${erin.user.id}`, {
          method: 'PATCH',
          body: '{"disabled":true}',
        });
        assert.equal(disabled.status, 200, disabled.text);
        await stream.whenEnded();
        assert.ok(!stream.frames.some((f) => f.type === 'user.disabled'), 'nothing after the end');
      } finally {
        await stream.close();
      }
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
