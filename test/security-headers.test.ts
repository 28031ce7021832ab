import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { signIn, startHost, type TestHost } from './helpers/host.ts';
import { closeHost } from './helpers/put-helpers.ts';

/** Every answer, refusals and 404s included, says nosniff and carries a Referrer-Policy. */
describe('security headers on every response', () => {
  let host: TestHost;
  let id: string;
  let token: string;
  let cookie: string;

  before(async () => {
    host = await startHost();
    id = await host.addFile('Headers.docx', 'content');
    token = await host.token(id);
    ({ cookie } = await signIn(host, 'ann'));
  });
  after(() => closeHost(host));

  const wopi = (suffix = '', t = token, fileId = id) =>
    `/wopi/files/${fileId}${suffix}?access_token=${encodeURIComponent(t)}`;

  it('WOPI, API, health, assets, redirects, refusals, errors and 404s: nosniff and no-referrer', async () => {
    const requests: Array<[string, string, RequestInit?]> = [
      ['CheckFileInfo', wopi()],
      ['GetFile', wopi('/contents')],
      [
        'a WOPI refusal (409)',
        wopi(),
        { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': 'x' } },
      ],
      ['a bad token (401)', wopi('', 'not-a-token')],
      ['no such file (404)', wopi('', token, 'nope')],
      ['an unknown override (501)', wopi(), { method: 'POST', headers: { 'X-WOPI-Override': 'NOPE' } }],
      ['no such route (404)', '/no/such/route'],
      ['a malformed URL (400)', '/wopi/files/%E0%A4%A'],
      ['the API', '/api/files', { headers: { Cookie: cookie } }],
      ['the API refusing (404)', '/api/files/nope', { headers: { Cookie: cookie } }],
      ['the API without a session (401)', '/api/files'],
      ['/healthz', '/healthz'],
      ['/readyz', '/readyz'],
      ['a script', '/static/app.js'],
      ['no such asset (404)', '/static/nope.js'],
      ['a page sending a browser to sign in (303)', '/', { headers: { Accept: 'text/html' }, redirect: 'manual' }],
    ];
    for (const [what, path, init] of requests) {
      const res = await fetch(`${host.url}${path}`, init);
      await res.arrayBuffer();
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: ${res.status}`);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', `${what}: ${res.status}`);
    }
  });

  it("Quire's pages keep their own Referrer-Policy, with nosniff", async () => {
    for (const [what, path, policy] of [
      ['the sign-in page', '/login', 'same-origin'],
      ['the document list', '/', 'same-origin'],
      ['a missing document (404 page)', '/files/nope', 'same-origin'],
    ] as const) {
      const res = await fetch(`${host.url}${path}`, { headers: { Cookie: cookie, Accept: 'text/html' } });
      await res.arrayBuffer();
      assert.equal(res.headers.get('referrer-policy'), policy, what);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
    }
  });

  it('a request the HTTP parser rejects is answered with the same headers', async () => {
    const u = new URL(host.url);
    const socket = connect(Number(u.port), u.hostname);
    const answer = await new Promise<string>((resolve, reject) => {
      let got = '';
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
      });
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n');
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /\r\nX-Content-Type-Options: nosniff\r\n/i);
    assert.match(answer, /\r\nReferrer-Policy: no-referrer\r\n/i);
  });
});
