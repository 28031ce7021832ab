import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newApiKey } from '../src/auth/api-key.ts';
import { redactSecrets } from '../src/auth/redact.ts';
import type { SqlDatabase } from '../src/storage/sql/database.ts';
import {
  apiAs,
  type ReadResponse,
  readResponse,
  signIn,
  startHost,
  storageKinds,
  type TestHost,
  WopiClient,
} from './helpers/host.ts';
import { runQuire, runQuireJson } from './helpers/process-helpers.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

const INTEGRATOR = 'https://cases.example.org';

interface CreatedKey {
  id: string;
  name: string;
  scopes: string[];
  key: string;
  status: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

interface Minted {
  accessToken: string;
  accessTokenTtl: number;
  wopiSrc: string;
  hostPageUrl: string;
  userId: string;
}

for (const kind of storageKinds) {
  describe(`service API keys [${kind.name}]`, () => {
    let host: TestHost;
    let editor: StandInEditor;
    let admin: ReturnType<typeof apiAs>;
    let people: ReturnType<typeof apiAs>;

    /** A JSON API call with `key` as the Bearer credential, and no cookie. */
    const withKey =
      (key: string) =>
      async (path: string, init: RequestInit & { json?: unknown } = {}): Promise<ReadResponse> => {
        const { json, ...rest } = init;
        return readResponse(
          await fetch(`${host.url}${path}`, {
            ...rest,
            headers: {
              Authorization: `Bearer ${key}`,
              Accept: 'application/json',
              ...(json !== undefined && { 'Content-Type': 'application/json' }),
              ...(rest.headers as Record<string, string>),
            },
            ...(json !== undefined && { body: JSON.stringify(json) }),
          }),
        );
      };

    const createKey = async (name: string, scopes: string[], extra: Record<string, unknown> = {}) => {
      const res = await admin('/api/admin/api-keys', {
        method: 'POST',
        body: JSON.stringify({ name, scopes, ...extra }),
      });
      assert.equal(res.status, 201, res.text);
      return res.json as CreatedKey;
    };

    const db = () => (host.quire.host.storage as unknown as { db: SqlDatabase }).db;
    const rowOf = async (id: string) => {
      const [row] = await db().all<Record<string, unknown>>(
        `SELECT * FROM ${db().dialect.table('api_keys')} WHERE id = $1`,
        [id],
      );
      assert.ok(row, `a row for key ${id}`);
      return row;
    };

    before(async () => {
      editor = await startStandInEditor();
      host = await startHost({ storageKind: kind, editor: { url: editor.url }, frameAncestors: [INTEGRATOR] });
      const root = await signIn(host, 'root', { isAdmin: true });
      admin = apiAs(host, root.cookie, { 'Content-Type': 'application/json' });
      const bob = await signIn(host, 'bob');
      people = apiAs(host, bob.cookie, { 'Content-Type': 'application/json' });
    });
    after(async () => {
      await host?.close();
      await editor?.close();
    });

    it('an admin makes a key: shown once, stored only as the SHA-256 of its secret, audited', async () => {
      const made = await createKey('Case system', ['files:read', 'files:write', 'tokens']);
      assert.match(made.key, /^quire_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      assert.ok(made.key.startsWith(`quire_${made.id}_`), 'the key names its id');
      assert.deepEqual(made.scopes, ['files:read', 'files:write', 'tokens']);
      assert.equal(made.status, 'active');

      const secret = made.key.slice(`quire_${made.id}_`.length);
      const row = await rowOf(made.id);
      assert.equal(row.secret_hash, createHash('sha256').update(secret).digest('hex'));
      for (const [column, value] of Object.entries(row)) {
        assert.ok(!String(value).includes(secret), `column ${column} does not hold the secret`);
      }

      const listed = await admin('/api/admin/api-keys');
      assert.equal(listed.status, 200);
      assert.ok(!listed.text.includes(secret), 'the list never shows a secret');
      const mine = (listed.json as CreatedKey[]).find((k) => k.id === made.id);
      assert.equal(mine?.name, 'Case system');
      assert.equal('key' in (mine ?? {}), false);

      const events = await host.quire.host.storage.events.list({ limit: 50 });
      const created = events.find((e) => e.type === 'apikey.created' && e.details?.key === made.id);
      assert.ok(created, 'apikey.created is in the log');
      assert.ok(!JSON.stringify(created).includes(secret));
    });

    it('only admins make keys, and bad input is refused with a reason, changing nothing', async () => {
      const before = (await admin('/api/admin/api-keys')).json as unknown[];
      const byPerson = await people('/api/admin/api-keys', {
        method: 'POST',
        body: JSON.stringify({ name: 'x', scopes: ['files:read'] }),
      });
      assert.equal(byPerson.status, 403);
      for (const [body, reason] of [
        [{ name: '', scopes: ['files:read'] }, /name/],
        [{ name: 'x', scopes: [] }, /at least one scope/],
        [{ name: 'x', scopes: ['admin'] }, /unknown scope "admin"/],
        [{ name: 'x', scopes: ['files:read'], expiresAt: 'soon' }, /expiresAt/],
        [{ name: 'x', scopes: ['files:read'], expiresAt: '2020-01-01T00:00:00Z' }, /future/],
      ] as const) {
        const res = await admin('/api/admin/api-keys', { method: 'POST', body: JSON.stringify(body) });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match((res.json as { error: string }).error, reason);
      }
      assert.equal(((await admin('/api/admin/api-keys')).json as unknown[]).length, before.length);
    });

    it('a key drives the JSON API as a service on every document, cross-site checks aside', async () => {
      const made = await createKey('Importer', ['files:read', 'files:write']);
      const api = withKey(made.key);
      // someone's own document: the key reaches it as an admin would
      const theirs = await host.addFile('Bob notes.docx', 'bob', 'someone-else');
      const got = await api(`/api/files/${theirs}`);
      assert.equal(got.status, 200, got.text);

      const uploaded = await api('/api/files?name=Contract.docx', {
        method: 'POST',
        body: 'contract bytes',
        // a browser on another site would send this; a key is no cookie, so it is no forgery
        headers: { Origin: 'https://elsewhere.example', 'Content-Type': 'application/octet-stream' },
      });
      assert.equal(uploaded.status, 201, uploaded.text);
      const fileId = (uploaded.json as { id: string }).id;
      const content = await api(`/api/files/${fileId}/content`);
      assert.equal(content.text, 'contract bytes');
      const renamed = await api(`/api/files/${fileId}/rename`, { method: 'POST', json: { name: 'Signed.docx' } });
      assert.equal(renamed.status, 200, renamed.text);
      const versions = await api(`/api/files/${fileId}/versions`);
      assert.equal(versions.status, 200);
      const list = await api('/api/files');
      assert.ok((list.json as Array<{ id: string }>).some((f) => f.id === theirs));

      const events = await host.quire.host.storage.events.list({ fileId, limit: 10 });
      assert.ok(
        events.every((e) => e.userId === `apikey:${made.id}`),
        'what the key did is the key in the log',
      );
      const gone = await api(`/api/files/${fileId}`, { method: 'DELETE' });
      assert.equal(gone.status, 204);
    });

    it('a key without the scope gets 403 naming it; admin parts of the API are not for keys', async () => {
      const reader = await createKey('Reader', ['files:read']);
      const api = withKey(reader.key);
      const fileId = await host.addFile('Read me.docx', 'text');
      const refused = await api('/api/files?name=Nope.docx', { method: 'POST', body: 'x' });
      assert.equal(refused.status, 403);
      assert.deepEqual(refused.json, { error: 'this API key lacks the scope "files:write"', scope: 'files:write' });
      assert.match(refused.headers.get('www-authenticate') ?? '', /insufficient_scope.*scope="files:write"/);
      const noTokens = await api(`/api/files/${fileId}/tokens`, {
        method: 'POST',
        json: { user: { id: 'alice', name: 'Alice' }, role: 'editor' },
      });
      assert.equal(noTokens.status, 403);
      assert.match(noTokens.text, /"tokens"/);
      for (const path of ['/api/admin/users', '/api/admin/api-keys', '/api/events', '/api/locks']) {
        const res = await api(path);
        assert.equal(res.status, 403, path);
        assert.match((res.json as { error: string }).error, /API keys cannot use this part/);
      }
      assert.equal((await api(`/api/files/${fileId}`)).status, 200, 'what it may do still works');
      assert.equal((await host.quire.host.storage.catalog.listFiles()).filter((f) => f.name === 'Nope.docx').length, 0);
    });

    it('a missing, malformed or wrong key gets 401 with the reason and WWW-Authenticate: Bearer', async () => {
      const none = await readResponse(
        await fetch(`${host.url}/api/files`, { headers: { Accept: 'application/json' } }),
      );
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      const made = await createKey('Probe', ['files:read']);
      const wrongSecret = `${made.key.slice(0, -4)}AAAA`;
      // another scheme (a proxy's Basic sign-in) is no key: the request is judged by its cookie, like any other
      const basic = await readResponse(
        await fetch(`${host.url}/api/files`, {
          headers: { Authorization: 'Basic YWxpY2U6c2VjcmV0', Accept: 'application/json' },
        }),
      );
      assert.equal(basic.status, 401);
      assert.deepEqual(basic.json, { error: 'sign in required', login: '/login' });
      for (const [header, reason] of [
        ['Bearer two words', /and nothing after it/],
        ['Bearer not-a-key', /not a Quire API key/],
        [`Bearer ${wrongSecret}`, /not valid/],
        [`Bearer quire_0000000000000000_${'A'.repeat(43)}`, /not valid/],
      ] as const) {
        const res = await readResponse(
          await fetch(`${host.url}/api/files`, { headers: { Authorization: header, Accept: 'application/json' } }),
        );
        assert.equal(res.status, 401, header);
        assert.match((res.json as { error: string }).error, reason);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="quire", error="invalid_token"/);
      }
    });

    it("mints tokens for the integrator's own users: a stable, prefixed UserId, the role asked for", async () => {
      const made = await createKey('Portal', ['files:read', 'tokens']);
      const api = withKey(made.key);
      const fileId = await host.addFile('Brief.docx', 'brief');
      const mint = (body: unknown) => api(`/api/files/${fileId}/tokens`, { method: 'POST', json: body });

      const asViewer = await mint({ user: { id: 'alice', name: 'Alice Ng' }, role: 'viewer' });
      assert.equal(asViewer.status, 201, asViewer.text);
      const viewer = asViewer.json as Minted;
      assert.equal(viewer.userId, `ext:${made.id}:alice`);
      assert.equal(viewer.wopiSrc, `${host.url}/wopi/files/${fileId}`);
      assert.match(viewer.hostPageUrl, new RegExp(`^${host.url}/embed/${fileId}\\?ticket=`));
      const info = (await new WopiClient(host.url, fileId, viewer.accessToken).checkFileInfo()).json as Record<
        string,
        unknown
      >;
      assert.equal(info.UserId, `ext:${made.id}:alice`);
      assert.equal(info.UserFriendlyName, 'Alice Ng');
      assert.equal(info.UserCanWrite, false);

      const asEditor = (await mint({ user: { id: 'alice', name: 'Alice Ng' }, role: 'editor', secureView: true }))
        .json as Minted;
      const wopi = new WopiClient(host.url, fileId, asEditor.accessToken);
      const editorInfo = (await wopi.checkFileInfo()).json as Record<string, unknown>;
      assert.equal(editorInfo.UserId, viewer.userId, 'the same external user is the same UserId');
      assert.equal(editorInfo.UserCanWrite, true);
      assert.equal((await wopi.lock('L1')).status, 200);
      assert.equal((await wopi.putFile('edited', { 'X-WOPI-Lock': 'L1' })).status, 200);
      assert.equal((await wopi.unlock('L1')).status, 200);

      for (const [body, reason] of [
        [{ role: 'editor' }, /"user"/],
        [{ user: { id: '', name: 'A' }, role: 'editor' }, /user\.id/],
        [{ user: { id: 'a', name: 'A' }, role: 'owner' }, /"role"/],
        [{ user: { id: 'a', name: 'A' }, role: 'viewer', secureView: 'yes' }, /secureView/],
        [{ user: { id: 'a', name: 'A' }, role: 'viewer', ttlSeconds: 5 }, /ttlSeconds/],
      ] as const) {
        const res = await mint(body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match((res.json as { error: string }).error, reason);
      }
      const missing = await api('/api/files/no-such-file/tokens', {
        method: 'POST',
        json: { user: { id: 'a', name: 'A' }, role: 'viewer' },
      });
      assert.equal(missing.status, 404);
      const minted = (await host.quire.host.storage.events.list({ fileId, limit: 20 })).filter(
        (e) => e.type === 'token.minted',
      );
      assert.equal(minted.length, 2);
      assert.equal(minted[0]?.details?.apiKey, made.id);
    });

    it('the host-page URL opens the editor without a sign-in, frameable by the configured origin only', async () => {
      const made = await createKey('Embedder', ['tokens']);
      const fileId = await host.addFile('Embed.docx', 'embedded');
      const minted = (
        await withKey(made.key)(`/api/files/${fileId}/tokens`, {
          method: 'POST',
          json: { user: { id: 'carol', name: 'Carol' }, role: 'editor' },
        })
      ).json as Minted;
      const page = await fetch(minted.hostPageUrl);
      assert.equal(page.status, 200);
      const html = await page.text();
      const token = html.match(/name="access_token" value="([^"]+)"/)?.[1];
      assert.ok(token, 'the page posts a token to the editor');
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, new RegExp(`frame-ancestors 'self' ${INTEGRATOR}(;|$)`));
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
      const info = (await new WopiClient(host.url, fileId, token).checkFileInfo()).json as Record<string, unknown>;
      assert.equal(info.UserId, `ext:${made.id}:carol`);

      const otherFile = await host.addFile('Other.docx', 'other');
      const ticket = new URL(minted.hostPageUrl).searchParams.get('ticket') ?? '';
      const elsewhere = await fetch(`${host.url}/embed/${otherFile}?ticket=${encodeURIComponent(ticket)}`);
      assert.equal(elsewhere.status, 401, 'a ticket opens its own file only');
      assert.equal((await fetch(`${host.url}/embed/${fileId}`)).status, 401);
      host.clock.advance(5 * 60_000 + 1);
      const late = await fetch(minted.hostPageUrl);
      assert.equal(late.status, 401, 'the URL works for minutes, not hours');
      assert.match(await late.text(), /expired/);
      // Quire's own host page stays unframeable by others
      const own = await signIn(host, 'root', { isAdmin: true });
      const ownPage = await fetch(`${host.url}/files/${fileId}/open`, { headers: { cookie: own.cookie } });
      assert.match(ownPage.headers.get('content-security-policy') ?? '', /frame-ancestors 'self'(;|$)/);
    });

    it('revoking a key ends it at once, and the tokens and URLs minted with it within a second', async () => {
      const made = await createKey('Leaky', ['files:read', 'tokens']);
      const api = withKey(made.key);
      const fileId = await host.addFile('Secret plan.docx', 'plan');
      const minted = (
        await api(`/api/files/${fileId}/tokens`, {
          method: 'POST',
          json: { user: { id: 'mallory', name: 'Mallory' }, role: 'editor' },
        })
      ).json as Minted;
      const wopi = new WopiClient(host.url, fileId, minted.accessToken);
      assert.equal((await wopi.checkFileInfo()).status, 200);

      const revoked = await admin(`/api/admin/api-keys/${made.id}/revoke`, { method: 'POST' });
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal((revoked.json as CreatedKey).status, 'revoked');
      const refused = await api('/api/files');
      assert.equal(refused.status, 401);
      assert.match((refused.json as { error: string }).error, /revoked/);

      host.clock.advance(1000);
      const late = await wopi.checkFileInfo();
      assert.equal(late.status, 401);
      assert.match(late.headers.get('x-wopi-servererror') ?? '', /revoked/);
      assert.equal((await fetch(minted.hostPageUrl)).status, 401);

      const again = await admin(`/api/admin/api-keys/${made.id}/revoke`, { method: 'POST' });
      assert.equal(again.status, 200, 'revoking twice is fine');
      const events = (await host.quire.host.storage.events.list({ limit: 100 })).filter(
        (e) => e.type === 'apikey.revoked' && e.details?.key === made.id,
      );
      assert.equal(events.length, 1, 'one revocation, one event');
      assert.equal((await admin('/api/admin/api-keys/0000000000000000/revoke', { method: 'POST' })).status, 404);
    });

    it('an expired key stops working on its own', async () => {
      const expiresAt = new Date(host.clock.now() + 3_600_000).toISOString();
      const made = await createKey('Short-lived', ['files:read'], { expiresAt });
      assert.equal((await withKey(made.key)('/api/me')).status, 200);
      host.clock.advance(3_600_000);
      const res = await withKey(made.key)('/api/me');
      assert.equal(res.status, 401);
      assert.match((res.json as { error: string }).error, /expired/);
      const listed = ((await admin('/api/admin/api-keys')).json as CreatedKey[]).find((k) => k.id === made.id);
      assert.equal(listed?.status, 'expired');
    });

    it('the last use is kept, written at most once a minute', async () => {
      const made = await createKey('Busy', ['files:read']);
      assert.equal((await rowOf(made.id)).last_used_at, null);
      const api = withKey(made.key);
      const first = host.clock.now();
      assert.equal((await api('/api/files')).status, 200);
      assert.equal(Number((await rowOf(made.id)).last_used_at), first);
      host.clock.advance(30_000);
      assert.equal((await api('/api/files')).status, 200);
      assert.equal(Number((await rowOf(made.id)).last_used_at), first, 'not a write per request');
      host.clock.advance(31_000);
      assert.equal((await api('/api/files')).status, 200);
      assert.equal(Number((await rowOf(made.id)).last_used_at), host.clock.now());
      const listed = ((await admin('/api/admin/api-keys')).json as CreatedKey[]).find((k) => k.id === made.id);
      assert.equal(listed?.lastUsedAt, new Date(host.clock.now()).toISOString());
    });
  });
}

describe('quire apikey: create, list and revoke from the command line', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'quire-apikey-cli-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the key once, lists keys without it, revokes; mistakes are usage errors', async () => {
    const created = await runQuire([
      'apikey',
      'create',
      'Sidecar',
      '--scope',
      'files:read,tokens',
      '--scope',
      'webhooks',
      '--expires',
      '30d',
      '--data',
      dataDir,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const made = JSON.parse(created.stdout) as CreatedKey & { expiresAt: string };
    assert.match(made.key, /^quire_[0-9a-f]{16}_/);
    assert.deepEqual(made.scopes, ['files:read', 'tokens', 'webhooks']);
    assert.ok(Date.parse(made.expiresAt) > Date.now() + 29 * 86_400_000);
    assert.match(created.stderr, /only its hash/);

    const listed = await runQuireJson<CreatedKey>(['apikey', 'list', '--data', dataDir]);
    assert.equal(listed.id, made.id);
    assert.equal(listed.status, 'active');
    assert.equal('key' in listed, false);

    const revoked = await runQuireJson<CreatedKey>(['apikey', 'revoke', made.id, '--data', dataDir]);
    assert.ok(revoked.revokedAt);
    assert.equal((await runQuireJson<CreatedKey>(['apikey', 'list', '--data', dataDir])).status, 'revoked');

    for (const args of [
      ['apikey', 'create', 'NoScope'],
      ['apikey', 'create', 'Bad', '--scope', 'admin'],
      ['apikey', 'create', 'Bad', '--scope', 'files:read', '--expires', 'someday'],
      ['apikey', 'revoke', '0000000000000000'],
      ['apikey', 'frobnicate'],
    ]) {
      const res = await runQuire([...args, '--data', dataDir]);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, /^quire: /);
    }
  });
});

describe('API keys and embed tickets in logs', () => {
  it('are taken out of whatever is logged, the key id kept', () => {
    const { id, key } = newApiKey();
    const secret = key.slice(`quire_${id}_`.length);
    for (const text of [`key ${key} leaked`, `{"key":"${key}"}`, `Authorization: Bearer ${key}`]) {
      const out = redactSecrets(text);
      assert.ok(!out.includes(secret), out);
    }
    assert.match(redactSecrets(`made ${key}`), new RegExp(`quire_${id}_\\[redacted\\]`));
    assert.equal(
      redactSecrets('GET /embed/abc?ticket=eyJhbGciOiJIUzI1NiJ9.e30.sig&x=1'),
      'GET /embed/abc?ticket=[redacted]&x=1',
    );
  });
});
