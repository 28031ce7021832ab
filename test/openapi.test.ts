import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { ManualClock } from '../src/core/clock.ts';
import { createQuire, type EmbeddedQuire } from '../src/embed.ts';
import { Quire } from '../src/quire.ts';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import {
  apiAs,
  type ReadResponse,
  readResponse,
  signIn,
  startHost,
  storageKinds,
  type TestHost,
} from './helpers/host.ts';

/** The parts of an OpenAPI document these tests read. */
interface Operation {
  tags?: string[];
  summary?: string;
  description?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema: object }>;
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>;
}
interface OpenApiDocument {
  openapi: string;
  servers?: Array<{ url: string }>;
  components: { securitySchemes: Record<string, Record<string, string>> };
  security: Array<Record<string, string[]>>;
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

const operations = (doc: OpenApiDocument) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ path, method: m, op: item[m] as Operation })),
  );

/** Fastify's '/api/files/:id' as OpenAPI writes it: '/api/files/{id}'. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the OpenAPI document', () => {
  let quire: Quire;
  let url: string;
  let dataDir: string;
  let doc: OpenApiDocument;
  /** Every route Fastify registered, as an onRoute hook saw it. */
  const registered: Array<{ method: string; url: string }> = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'quire-openapi-'));
    quire = await Quire.create({
      dataDir,
      clock: new ManualClock(Date.UTC(2026, 0, 1)),
      storage: await openSqliteStorage(dataDir),
    });
    // added before the app loads its plugins, so every route of every part of it passes here
    quire.app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) registered.push({ method: String(method), url: route.url });
    });
    url = await quire.listen(0, '127.0.0.1');
    const res = await fetch(`${url}/api/openapi.json`);
    assert.equal(res.status, 200, 'served without sign-in');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    doc = (await res.json()) as OpenApiDocument;
  });
  after(async () => {
    await quire?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is a valid OpenAPI 3.1 document, served at /api/openapi.json for this server', async () => {
    const checked = await new Validator().validate(doc as never);
    assert.equal(checked.valid, true, JSON.stringify(checked.errors, null, 2));
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.servers, [{ url }]);
    assert.ok(operations(doc).length >= 40, `${operations(doc).length} operations`);
  });

  it('lists every /api route Fastify registered, and nothing else', () => {
    const api = registered
      .filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD')
      .map((r) => `${r.method} ${openApiPath(r.url)}`);
    assert.ok(api.includes('GET /api/events/stream'), 'routes the web app adds outside the API module count too');
    const documented = operations(doc).map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    assert.deepEqual([...documented].sort(), [...new Set(api)].sort());
    assert.equal(documented.length, new Set(documented).size);
    // the pages, sign-in and WOPI routes are not part of the JSON API
    for (const path of Object.keys(doc.paths)) assert.match(path, /^\/api\//);
  });

  it('names both ways in, and says for each route which one works (and the scope a key needs)', () => {
    assert.deepEqual(doc.components.securitySchemes.session, {
      type: 'apiKey',
      in: 'cookie',
      name: 'quire_session',
      description: "Signed in to Quire's pages (POST /login sets it)",
    });
    assert.equal(doc.components.securitySchemes.apiKey?.type, 'http');
    assert.equal(doc.components.securitySchemes.apiKey?.scheme, 'bearer');
    const op = (method: (typeof METHODS)[number], path: string) => {
      const found = doc.paths[path]?.[method];
      assert.ok(found, `${method} ${path} is documented`);
      return found;
    };
    const both = [{ session: [] }, { apiKey: [] }];
    assert.deepEqual(op('get', '/api/files').security, both);
    assert.match(op('get', '/api/files').description ?? '', /`files:read` scope/);
    assert.match(op('post', '/api/files').description ?? '', /`files:write` scope/);
    assert.match(op('post', '/api/webhooks').description ?? '', /`webhooks` scope/);
    assert.deepEqual(op('get', '/api/me').security, both);
    assert.deepEqual(op('get', '/api/admin/users').security, [{ session: [] }], 'keys cannot manage people');
    assert.deepEqual(op('get', '/api/locks').security, [{ session: [] }]);
    assert.deepEqual(op('post', '/api/files/{id}/tokens').security, [{ apiKey: [] }], 'tokens are minted with a key');
    assert.deepEqual(op('get', '/api/openapi.json').security, [], 'the document itself is public');
  });

  it('gives every route its parameters, its JSON body, its answers and the error shape', () => {
    for (const { path, method, op } of operations(doc)) {
      const what = `${method} ${path}`;
      assert.ok(op.tags?.length === 1 && op.summary, `${what}: tagged and summarised`);
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const documented = (op.parameters ?? []).filter((p) => p.in === 'path');
      assert.deepEqual(documented.map((p) => p.name).sort(), inPath.sort(), `${what}: path parameters`);
      assert.ok(
        documented.every((p) => p.required),
        `${what}: path parameters are required`,
      );
      const ok = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
      assert.equal(ok.length, 1, `${what}: one success answer`);
      if (path === '/api/openapi.json') continue;
      const error = op.responses.default?.content?.['application/json']?.schema as { required?: string[] };
      assert.deepEqual(error?.required, ['error'], `${what}: refusals are {"error": …}`);
    }
    const body = (method: 'post' | 'put' | 'patch', path: string) =>
      doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema as {
        properties: Record<string, { enum?: string[] }>;
        required?: string[];
      };
    assert.deepEqual(body('put', '/api/files/{id}/shares').properties.role?.enum, ['viewer', 'commenter', 'editor']);
    assert.deepEqual(body('post', '/api/files/new').required, ['kind']);
    assert.deepEqual(body('post', '/api/files/{id}/tokens').required, ['user', 'role']);
    assert.ok(
      doc.paths['/api/files']?.post?.requestBody?.content['application/octet-stream'],
      'an upload is the raw bytes',
    );
    assert.ok(doc.paths['/api/files/{id}/content']?.get?.responses['200']?.content?.['application/octet-stream']);
    assert.ok(doc.paths['/api/files/{id}']?.delete?.responses['204']);
  });
});

/** The document's schema for one answer, compiled: undefined when the answer is not JSON. */
function answerCheck(doc: OpenApiDocument, method: string, path: string, status: number) {
  const answer = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
  assert.ok(answer, `${method} ${path} documents a ${status}`);
  const schema = answer.content?.['application/json']?.schema;
  if (!schema) return undefined;
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

for (const kind of storageKinds) {
  describe(`the API's answers and refusals are as documented [${kind.name}]`, () => {
    let host: TestHost;
    let doc: OpenApiDocument;
    let ann: ReturnType<typeof apiAs>;
    let fileId: string;
    let linkId: string;
    let bobId: string;

    /**
     * A JSON API call as Ann (an admin) to `path` (an OpenAPI path, its {params} filled from `params`); a JSON answer
     * is held to the document's schema for its status.
     */
    const call = async (
      method: string,
      path: string,
      { params = {}, json, ...init }: RequestInit & { params?: Record<string, string>; json?: unknown } = {},
      as = ann,
    ): Promise<ReadResponse> => {
      const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
      const res = await as(filled, {
        method,
        ...(json !== undefined && { body: JSON.stringify(json), headers: { 'Content-Type': 'application/json' } }),
        ...init,
      });
      if (res.status < 400) {
        const check = answerCheck(doc, method, path, res.status);
        if (check && !check(res.json)) {
          assert.fail(`${method} ${filled} → ${res.status} is not as documented: ${JSON.stringify(check.errors)}`);
        }
      } else {
        assert.equal(typeof res.json?.error, 'string', `${method} ${filled}: ${res.text}`);
      }
      return res;
    };

    before(async () => {
      host = await startHost({ storageKind: kind });
      doc = (await (await fetch(`${host.url}/api/openapi.json`)).json()) as OpenApiDocument;
      ann = apiAs(host, (await signIn(host, 'ann', { isAdmin: true })).cookie);
      bobId = (await signIn(host, 'bob')).user.id;
      // (an upload's name is in the query, which the OpenAPI path leaves out)
      const named = await ann('/api/files?name=Plan.docx', { method: 'POST', body: 'hello' });
      assert.equal(named.status, 201, named.text);
      fileId = named.json.id;
    });
    after(async () => host?.close());

    it('answers every documented success in its documented shape', async () => {
      const file = { params: { id: fileId } };
      const expect = async (status: number, method: string, path: string, init: Parameters<typeof call>[2] = {}) => {
        const res = await call(method, path, init);
        assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
        return res;
      };
      await expect(200, 'GET', '/api/me');
      await expect(200, 'GET', '/api/templates');
      await expect(201, 'POST', '/api/files/new', { json: { kind: 'spreadsheet', name: 'Budget' } });
      await expect(200, 'POST', '/api/files/{id}/rename', { ...file, json: { name: 'Plan v2.docx' } });
      await expect(200, 'GET', '/api/files/{id}', file);
      await expect(200, 'GET', '/api/files/{id}/versions', file);
      await expect(200, 'POST', '/api/files/{id}/versions/{version}/restore', { params: { id: fileId, version: '1' } });
      await expect(200, 'GET', '/api/files/{id}/rescued', file);
      await expect(200, 'PUT', '/api/files/{id}/shares', { ...file, json: { user: 'bob', role: 'commenter' } });
      const link = await expect(201, 'POST', '/api/files/{id}/links', {
        ...file,
        json: { role: 'viewer', password: 'long enough', expiresAt: '2027-01-01T00:00:00Z', secureView: true },
      });
      linkId = link.json.id;
      await expect(200, 'PATCH', '/api/files/{id}/links/{link}', {
        params: { id: fileId, link: linkId },
        json: { disabled: true },
      });
      await expect(200, 'GET', '/api/files/{id}/access', file);
      await expect(200, 'GET', '/api/files');
      await expect(200, 'GET', '/api/people');
      await expect(200, 'GET', '/api/files/{id}/events', file);
      const events = await expect(200, 'GET', '/api/events');
      assert.ok(events.json.length > 0);

      const group = await expect(201, 'POST', '/api/admin/groups', { json: { name: 'Finance' } });
      await expect(204, 'PUT', '/api/admin/groups/{id}/members/{user}', { params: { id: group.json.id, user: bobId } });
      await expect(200, 'GET', '/api/admin/groups');
      await expect(201, 'POST', '/api/admin/users', { json: { name: 'carl', password: 'correct horse 2' } });
      await expect(200, 'PATCH', '/api/admin/users/{id}', { params: { id: bobId }, json: { isAdmin: false } });
      await expect(200, 'GET', '/api/admin/users');

      const key = await expect(201, 'POST', '/api/admin/api-keys', {
        json: { name: 'Portal', scopes: ['files:read', 'tokens'] },
      });
      await expect(200, 'GET', '/api/admin/api-keys/scopes');
      const withKey = apiAs(host, '', { Authorization: `Bearer ${key.json.key}` });
      const minted = await call(
        'POST',
        '/api/files/{id}/tokens',
        { ...file, json: { user: { id: 'u1', name: 'Una' }, role: 'editor', ttlSeconds: 600 } },
        withKey,
      );
      assert.equal(minted.status, 201, minted.text);
      await expect(200, 'POST', '/api/admin/api-keys/{id}/revoke', { params: { id: key.json.id } });
      await expect(200, 'GET', '/api/admin/api-keys');

      await expect(200, 'GET', '/api/webhooks/event-types');
      const hook = await expect(201, 'POST', '/api/webhooks', {
        json: { url: 'http://127.0.0.1:9/hook', events: ['version.created'], description: 'test' },
      });
      const hookId = { params: { id: hook.json.id } };
      await expect(200, 'PATCH', '/api/webhooks/{id}', { ...hookId, json: { events: null } });
      await expect(202, 'POST', '/api/webhooks/{id}/ping', hookId);
      await expect(200, 'GET', '/api/webhooks/{id}/deliveries', hookId);
      await expect(200, 'GET', '/api/webhooks');

      // an editing session: a lock taken through WOPI, listed, then broken
      const wopi = await host.client(fileId);
      assert.equal((await wopi.lock('L-1')).status, 200);
      const sessions = await expect(200, 'GET', '/api/locks');
      assert.equal(sessions.json.length, 1);
      await expect(200, 'POST', '/api/files/{id}/lock/break', { ...file, json: { reason: 'gone home' } });
      await expect(204, 'DELETE', '/api/webhooks/{id}', hookId);
      await expect(204, 'DELETE', '/api/files/{id}/shares/{kind}/{principal}', {
        params: { id: fileId, kind: 'user', principal: bobId },
      });
      await expect(204, 'DELETE', '/api/admin/groups/{id}', { params: { id: group.json.id } });
    });

    it('refuses invalid requests with 400 and a reason naming the field, changing nothing', async () => {
      const state = async () => ({
        files: (await ann('/api/files')).json,
        access: (await ann(`/api/files/${fileId}/access`)).json,
        users: (await ann('/api/admin/users')).json,
        groups: (await ann('/api/admin/groups')).json,
        keys: (await ann('/api/admin/api-keys')).json,
        webhooks: (await ann('/api/webhooks')).json,
        events: (await host.quire.host.storage.events.list({ limit: 1000 })).length,
      });
      const before = await state();
      const file = `/api/files/${encodeURIComponent(fileId)}`;
      const cases: Array<[method: string, path: string, body: unknown, reason: RegExp]> = [
        ['POST', '/api/files/new', { kind: 'drawing' }, /^"kind" must be one of document, spreadsheet, presentation$/],
        ['POST', '/api/files/new', { name: 'x' }, /^"kind" is required$/],
        ['POST', '/api/files/new', { kind: 'document', name: 7 }, /^"name" must be text$/],
        ['POST', `${file}/rename`, {}, /^"name" is required$/],
        ['POST', `${file}/rename`, { name: ['a.docx'] }, /^"name" must be text$/],
        ['PUT', `${file}/shares`, { user: 'bob', role: 'owner' }, /^"role" must be one of viewer, commenter, editor$/],
        ['PUT', `${file}/shares`, { user: 'bob' }, /^"role" is required$/],
        ['PUT', `${file}/shares`, { user: 7, role: 'viewer' }, /^"user" must be text$/],
        ['PUT', `${file}/shares`, { user: 'bob', role: 'viewer', secureView: 'yes' }, /^"secureView" must be true/],
        ['POST', `${file}/links`, { role: 'admin' }, /^"role" must be one of/],
        ['PATCH', `${file}/links/${linkId}`, { disabled: 'yes' }, /^"disabled" must be true or false$/],
        ['PATCH', `${file}/links/${linkId}`, { expiresAt: true }, /^"expiresAt" must be text, a number or null$/],
        ['POST', '/api/admin/users', { name: 'dora', isAdmin: 'yes' }, /^"isAdmin" must be true or false$/],
        ['POST', '/api/admin/users', { password: 'correct horse 3' }, /^"name" is required$/],
        ['PATCH', `/api/admin/users/${bobId}`, { disabled: 1 }, /^"disabled" must be true or false$/],
        ['POST', '/api/admin/groups', { name: '' }, /^"name" must be non-empty text$/],
        [
          'POST',
          '/api/admin/api-keys',
          { name: 'x', scopes: ['files:read', 'everything'] },
          /^unknown scope "everything" in "scopes\[1\]"; known: files:read, files:write, tokens, webhooks$/,
        ],
        ['POST', '/api/admin/api-keys', { name: 'x', scopes: 'files:read' }, /^"scopes" must be a list$/],
        ['POST', '/api/webhooks', { url: 'http://127.0.0.1:9/h', events: 'file.saved' }, /^"events" must be a list/],
        ['POST', '/api/webhooks', { events: ['file.created'] }, /^"url" is required$/],
        ['POST', `${file}/lock/break`, { reason: '' }, /^"reason" must be non-empty text$/],
        [
          'GET',
          '/api/files?scope=everything',
          undefined,
          /^"scope" \(in the query\) must be one of all, mine, shared$/,
        ],
        ['GET', '/api/events?limit=ten', undefined, /^"limit" \(in the query\) must be an event id/],
        ['GET', `${file}/versions/0/content`, undefined, /^"version" \(in the path\) must be a positive whole number$/],
        ['POST', `${file}/rescued/x/restore`, undefined, /^"rescued" \(in the path\) must be a positive whole/],
        ['DELETE', `${file}/shares/team/${bobId}`, undefined, /^"kind" \(in the path\) must be one of user, group$/],
      ];
      for (const [method, path, body, reason] of cases) {
        const res = await ann(path, {
          method,
          ...(body !== undefined && { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
        });
        const what = `${method} ${path} ${JSON.stringify(body) ?? ''}`;
        assert.equal(res.status, 400, `${what}: ${res.text}`);
        assert.match(res.json?.error, reason, what);
        assert.deepEqual(Object.keys(res.json), ['error'], what);
      }
      // the same check for another app's key: a token for someone without a name is not minted
      const key = (
        await ann('/api/admin/api-keys', {
          method: 'POST',
          body: JSON.stringify({ name: 'Minter', scopes: ['tokens'] }),
          headers: { 'Content-Type': 'application/json' },
        })
      ).json as { id: string; key: string };
      const withKey = apiAs(host, '', { Authorization: `Bearer ${key.key}`, 'Content-Type': 'application/json' });
      for (const [body, reason] of [
        [{ user: { id: 'u1' }, role: 'viewer' }, /^"user\.name" is required$/],
        [{ user: { id: 'u1', name: 'Una' }, role: 'owner' }, /^"role" must be one of viewer, commenter, editor$/],
        [{ user: { id: 'u1', name: 'Una' }, role: 'viewer', ttlSeconds: '600' }, /^"ttlSeconds" must be a whole/],
      ] as const) {
        const res = await withKey(`${file}/tokens`, { method: 'POST', body: JSON.stringify(body) });
        assert.equal(res.status, 400, res.text);
        assert.match(res.json.error, reason);
      }
      await ann(`/api/admin/api-keys/${key.id}/revoke`, { method: 'POST' });
      const after = await state();
      assert.deepEqual(
        { ...after, keys: after.keys.filter((k: { id: string }) => k.id !== key.id), events: undefined },
        { ...before, events: undefined },
      );
      // nothing but the key made and revoked above was written: its two events
      assert.equal(after.events, before.events + 2);
    });

    it('settles who is asking before judging what was sent; JSON bodies stay JSON, uploads stay raw', async () => {
      const anonymous = await readResponse(await fetch(`${host.url}/api/files?scope=everything`));
      assert.equal(anonymous.status, 401, 'not signed in: 401 first, whatever the query');
      const wrongType = await ann('/api/files/new', {
        method: 'POST',
        body: '{"kind":"document"}',
        headers: { 'Content-Type': 'text/plain' },
      });
      assert.equal(wrongType.status, 415);
      // an upload is never parsed, whatever its media type says
      const raw = await ann('/api/files?name=data.json', {
        method: 'POST',
        body: 'not { json',
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(raw.status, 201, raw.text);
      const bytes = await ann(`/api/files/${raw.json.id}/content`);
      assert.equal(bytes.text, 'not { json');
    });
  });
}

describe('the OpenAPI document under a base path', () => {
  let server: Server;
  let quire: EmbeddedQuire;
  let dataDir: string;
  let origin: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'quire-openapi-base-'));
    let handler: EmbeddedQuire['handler'] = (_req, res) => res.writeHead(503).end();
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address && typeof address === 'object');
    origin = `http://127.0.0.1:${address.port}`;
    quire = await createQuire({ dataDir, publicUrl: `${origin}/office`, logger: false });
    handler = quire.handler;
  });
  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await quire?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is served under it, names it as the server, and keeps the paths of the API as they are', async () => {
    assert.equal((await fetch(`${origin}/api/openapi.json`)).status, 404);
    const res = await fetch(`${origin}/office/api/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as OpenApiDocument;
    assert.deepEqual(doc.servers, [{ url: `${origin}/office` }]);
    assert.ok(doc.paths['/api/files/{id}']?.get, 'paths are relative to the server');
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/office')));
    assert.match(doc.paths['/api/files']?.get?.description ?? '', /`files:read` scope/);
    assert.equal((await new Validator().validate(doc as never)).valid, true);
  });
});
