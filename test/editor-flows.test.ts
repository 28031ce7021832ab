import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildExpectedProof, msToDotNetTicks } from '../src/auth/proof-keys.ts';
import { signIn, startHost, type TestHost, utf7, WopiClient } from './helpers/host.ts';
import { type StandInEditor, type StandInOptions, startStandInEditor } from './helpers/stand-in-editor.ts';

const realClock = { now: () => Date.now() };

async function hostWithEditor(
  standIn: StandInOptions,
  proofKeys: 'off' | 'log' | 'enforce' = 'enforce',
): Promise<{ host: TestHost; editor: StandInEditor }> {
  const editor = await startStandInEditor(standIn);
  const host = await startHost({ clock: realClock, editor: { url: editor.url, proofKeys } });
  await host.quire.editor.current();
  return { host, editor };
}

/** The host page's form: where it posts, and the token it carries. */
async function openHostPage(host: TestHost, cookie: string, path: string) {
  const res = await fetch(`${host.url}${path}`, { headers: { cookie }, redirect: 'manual' });
  const html = await res.text();
  const action = html.match(/<form id="editor_form"[^>]* action="([^"]+)"/)?.[1]?.replace(/&amp;/g, '&');
  const token = html.match(/name="access_token" value="([^"]+)"/)?.[1];
  return { status: res.status, html, action, token };
}

describe('Collabora Online: timestamps instead of locks', () => {
  let host: TestHost;
  let editor: StandInEditor;
  before(async () => ({ host, editor } = await hostWithEditor({ flavour: 'collabora' })));
  after(async () => {
    await host.close();
    await editor.close();
  });

  it('reads the flavour from discovery and answers CheckFileInfo with the Collabora properties', async () => {
    assert.equal(host.quire.host.flavour(), 'collabora');
    const id = await host.addFile('Notes.odt', 'v1', 'alice');
    const info = (await (await host.client(id)).checkFileInfo()).json;
    assert.equal(info.UserFriendlyName, 'Alice Example');
    assert.equal(info.EnableOwnerTermination, true, 'alice owns the file');
    assert.equal(info.IsAdminUser, false);
    assert.equal(info.HideSaveOption, false);
    assert.equal(info.UserCanNotWriteRelative, false);
    assert.equal(info.SupportsRename, true);
    assert.equal(info.PostMessageOrigin, host.url);
  });

  it('accepts an unlocked save whose timestamp is current, and refuses a stale one with COOLStatusCode 1010', async () => {
    const id = await host.addFile('Budget.odt', 'v1');
    const c = await host.client(id);
    const opened = (await c.checkFileInfo()).json.LastModifiedTime;
    // the editor keeps `opened` and sends it back with its save
    const first = await c.putFile('v2', { 'X-COOL-WOPI-Timestamp': opened, 'X-COOL-WOPI-IsModifiedByUser': 'true' });
    assert.equal(first.status, 200, first.text);
    assert.notEqual(first.json.LastModifiedTime, opened);
    // someone else's save lands in between; the editor still holds `first`'s time… then a save with an old time:
    const stale = await c.putFile('v3-from-a-stale-editor', { 'X-COOL-WOPI-Timestamp': opened });
    assert.equal(stale.status, 409);
    assert.equal(stale.json.COOLStatusCode, 1010);
    assert.equal(stale.json.LOOLStatusCode, 1010);
    assert.equal((await c.content()).toString(), 'v2', 'the stale save changed nothing');
    // the older X-LOOL- spelling, with the time the last save returned
    const second = await c.putFile('v3', { 'X-LOOL-WOPI-Timestamp': first.json.LastModifiedTime });
    assert.equal(second.status, 200, second.text);
    assert.equal((await c.content()).toString(), 'v3');
    assert.equal((await c.checkFileInfo()).json.LastModifiedTime, second.json.LastModifiedTime);
  });

  it('keeps the spec page 409 (no 1010) for an unlocked, non-empty file saved without lock or timestamp', async () => {
    const id = await host.addFile('Plain.odt', 'v1');
    const c = await host.client(id);
    const res = await c.putFile('v2');
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('X-WOPI-Lock'), '');
    assert.equal(res.json.COOLStatusCode, undefined);
  });

  it('lets the lock decide when the file is locked: a timestamp does not open a locked file, nor block its holder', async () => {
    const id = await host.addFile('Locked.odt', 'v1');
    const c = await host.client(id);
    const now = (await c.checkFileInfo()).json.LastModifiedTime;
    assert.equal((await c.lock('L')).status, 200);
    const intruder = await c.putFile('intruder', { 'X-COOL-WOPI-Timestamp': now });
    assert.equal(intruder.status, 409);
    assert.equal(intruder.headers.get('X-WOPI-Lock'), 'L');
    // ONLYOFFICE sends its lock with the time it opened the document, which may be old: the lock decides
    const holder = await c.putFile('holder', {
      'X-WOPI-Lock': 'L',
      'X-LOOL-WOPI-Timestamp': '2001-01-01T00:00:00.000Z',
    });
    assert.equal(holder.status, 200, holder.text);
    assert.equal((await c.content()).toString(), 'holder');
  });

  it('refuses a timestamp that is not a time with 400', async () => {
    const id = await host.addFile('Odd.odt', 'v1');
    const c = await host.client(id);
    const res = await c.putFile('v2', { 'X-COOL-WOPI-Timestamp': 'yesterday-ish' });
    assert.equal(res.status, 400);
    assert.equal((await c.content()).toString(), 'v1');
  });

  it('renames with the document as the request body, as Collabora sends it, and ignores the body', async () => {
    const id = await host.addFile('Draft.odt', 'content');
    const c = await host.client(id);
    const res = await c.override('RENAME_FILE', { 'X-WOPI-RequestedName': utf7('Final') }, 'the whole document');
    assert.equal(res.status, 200);
    assert.equal(res.json.Name, 'Final');
    assert.equal((await c.content()).toString(), 'content');
  });
});

describe('ONLYOFFICE Docs: editing binary documents through conversion', () => {
  let host: TestHost;
  let editor: StandInEditor;
  before(async () => ({ host, editor } = await hostWithEditor({ flavour: 'onlyoffice' })));
  after(async () => {
    await host.close();
    await editor.close();
  });

  it('answers CheckFileInfo with the ONLYOFFICE properties', async () => {
    assert.equal(host.quire.host.flavour(), 'onlyoffice');
    const id = await host.addFile('Memo.docx', 'x');
    const info = (await (await host.client(id)).checkFileInfo()).json;
    assert.equal(info.ClosePostMessage, true);
    assert.equal(info.UserCanReview, true);
    assert.equal(info.SupportsReviewing, true);
    assert.equal(info.HostEditUrl, `${host.url}/files/${id}/open?action=edit`);
  });

  it('opens a .doc with the convert action; the converted .docx is saved beside it and opens for editing', async () => {
    const { cookie } = await signIn(host, 'ann', { isAdmin: true });
    const docId = await host.addFile('Old Report.doc', 'binary doc bytes');
    const page = await openHostPage(host, cookie, `/files/${docId}/open?action=edit`);
    assert.equal(page.status, 200);
    assert.ok(page.action?.startsWith(`${editor.url}/hosting/wopi/word/convert?`), page.action);
    assert.equal(new URL(page.action as string).searchParams.get('wopisrc'), `${host.url}/wopi/files/${docId}`);
    assert.ok(page.token);

    // what ONLYOFFICE then does: lock the source, convert, PutRelativeFile the result without a lock header
    const source = new WopiClient(host.url, docId, page.token as string);
    assert.equal((await source.lock('onlyoffice-lock')).status, 200);
    const converted = 'converted docx bytes';
    const res = await source.putRelative(converted, {
      'X-WOPI-SuggestedTarget': utf7('.docx'),
      'X-WOPI-FileConversion': 'true',
      'X-WOPI-Size': String(Buffer.byteLength(converted)),
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.Name, 'Old Report.docx');
    const newUrl = new URL(res.json.Url);
    const newId = decodeURIComponent(newUrl.pathname.split('/').pop() as string);
    assert.equal(res.json.HostEditUrl, `${host.url}/files/${newId}/open?action=edit`);
    const copy = new WopiClient(host.url, newId, newUrl.searchParams.get('access_token') as string);
    assert.equal((await copy.content()).toString(), converted);
    const [version] = await host.quire.host.storage.catalog.listVersions(newId);
    assert.equal(version?.fileConversion, true);
    assert.equal((await source.content()).toString(), 'binary doc bytes', 'the source is untouched');

    // the editor then navigates to HostEditUrl: an edit action this time
    const next = await openHostPage(
      host,
      cookie,
      new URL(res.json.HostEditUrl).pathname + new URL(res.json.HostEditUrl).search,
    );
    assert.equal(next.status, 200);
    assert.ok(next.action?.startsWith(`${editor.url}/hosting/wopi/word/edit?`), next.action);
  });

  it('gives the view action a read-only token', async () => {
    const { cookie } = await signIn(host, 'ann', { isAdmin: true });
    const id = await host.addFile('Look.docx', 'x');
    const page = await openHostPage(host, cookie, `/files/${id}/open?action=view`);
    assert.ok(page.action?.includes('/word/view?'));
    const info = (await new WopiClient(host.url, id, page.token as string).checkFileInfo()).json;
    assert.equal(info.UserCanWrite, false);
    assert.equal(info.UserFriendlyName, 'User ann');
  });

  it('says so when the editor cannot open a format (415) or cannot be reached (502)', async () => {
    const { cookie } = await signIn(host, 'ann', { isAdmin: true });
    const id = await host.addFile('Drawing.xyz', 'x');
    assert.equal((await openHostPage(host, cookie, `/files/${id}/open?action=edit`)).status, 415);
    const gone = await startStandInEditor();
    await gone.close();
    const unreachable = await startHost({ clock: realClock, editor: { url: gone.url } });
    try {
      const { cookie: cookie2 } = await signIn(unreachable, 'ann', { isAdmin: true });
      const id2 = await unreachable.addFile('A.docx', 'x');
      const page = await openHostPage(unreachable, cookie2, `/files/${id2}/open?action=edit`);
      assert.equal(page.status, 502);
      assert.match(page.html, /could not read the editor's discovery/);
    } finally {
      await unreachable.close();
    }
  });

  it('lets the editor origin, and only it, call WOPI from a browser (CORS)', async () => {
    const id = await host.addFile('Cors.docx', 'x');
    const c = await host.client(id);
    const pre = await fetch(c.fileUrl(), {
      method: 'OPTIONS',
      headers: {
        Origin: editor.origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'x-wopi-override,x-wopi-lock',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), editor.origin);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /x-wopi-lock/);
    const other = await fetch(c.fileUrl(), { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
    assert.equal(other.status, 403);
    const get = await fetch(c.fileUrl(), { headers: { Origin: editor.origin } });
    assert.equal(get.headers.get('access-control-allow-origin'), editor.origin);
    assert.match(get.headers.get('access-control-expose-headers') ?? '', /X-WOPI-ItemVersion/);
    const getOther = await fetch(c.fileUrl(), { headers: { Origin: 'http://evil.example' } });
    assert.equal(getOther.headers.get('access-control-allow-origin'), null);
  });
});

describe('host page without an editor', () => {
  it('explains how to configure one (503)', async () => {
    const host = await startHost({ clock: realClock });
    try {
      const { cookie } = await signIn(host, 'ann', { isAdmin: true });
      const id = await host.addFile('A.docx', 'x');
      const page = await openHostPage(host, cookie, `/files/${id}/open?action=edit`);
      assert.equal(page.status, 503);
      assert.match(page.html, /--editor URL/);
    } finally {
      await host.close();
    }
  });
});

describe('proof keys over HTTP', () => {
  let host: TestHost;
  let editor: StandInEditor;
  let privateKey: KeyObject;
  let logHost: TestHost;

  before(async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey;
    const jwk = pair.publicKey.export({ format: 'jwk' });
    const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64url').toString('base64');
    const proofKey = { modulus: b64(jwk.n), exponent: b64(jwk.e) };
    ({ host, editor } = await hostWithEditor({ flavour: 'onlyoffice', proofKey }, 'enforce'));
    logHost = await startHost({ clock: realClock, editor: { url: editor.url, proofKeys: 'log' } });
  });
  after(async () => {
    await host.close();
    await logHost.close();
    await editor.close();
  });

  function proofHeaders(c: WopiClient, opts: { url?: string; ageMs?: number; tamper?: boolean } = {}) {
    const ticks = msToDotNetTicks(Date.now() - (opts.ageMs ?? 0));
    const url = opts.url ?? c.fileUrl();
    const signature = sign('sha256', buildExpectedProof(c.token, url, ticks), privateKey);
    if (opts.tamper) signature[10] = (signature[10] as number) ^ 0xff;
    const proof = signature.toString('base64');
    return { 'X-WOPI-Proof': proof, 'X-WOPI-ProofOld': proof, 'X-WOPI-TimeStamp': ticks.toString() };
  }

  it('accepts a request signed with the discovery key', async () => {
    const c = await host.client(await host.addFile('Signed.docx', 'x'));
    const res = await c.checkFileInfo(proofHeaders(c));
    assert.equal(res.status, 200, res.text);
  });

  it('refuses (500) an altered signature, an old timestamp, a proof for another URL, and a missing proof', async () => {
    const c = await host.client(await host.addFile('Guarded.docx', 'x'));
    for (const [what, headers] of [
      ['altered', proofHeaders(c, { tamper: true })],
      ['21 minutes old', proofHeaders(c, { ageMs: 21 * 60_000 })],
      ['other URL', proofHeaders(c, { url: `${host.url}/wopi/files/other?access_token=${c.token}` })],
      ['missing', {}],
    ] as const) {
      const res = await c.checkFileInfo(headers);
      assert.equal(res.status, 500, `${what}: ${res.text}`);
      assert.match(res.json.error, /proof/);
    }
  });

  it('changes nothing when a save fails its proof', async () => {
    const c = await host.client(await host.addFile('Kept.docx', 'v1'));
    assert.equal((await c.lock('L')).status, 500, 'an unsigned Lock is refused');
    assert.equal((await c.override('LOCK', { 'X-WOPI-Lock': 'L', ...proofHeaders(c) })).status, 200);
    const res = await c.putFile('v2', { 'X-WOPI-Lock': 'L', ...proofHeaders(c, { tamper: true }) });
    assert.equal(res.status, 500);
    const ok = await c.request(
      'GET',
      '/contents',
      proofHeaders(new WopiClient(c.baseUrl, c.fileId, c.token), { url: c.fileUrl('/contents') }),
    );
    assert.equal(ok.text, 'v1');
  });

  it("only logs a failed proof when set to 'log'", async () => {
    await logHost.quire.editor.current();
    const c = await logHost.client(await logHost.addFile('Logged.docx', 'x'));
    const res = await c.checkFileInfo(proofHeaders(c, { tamper: true }));
    assert.equal(res.status, 200);
  });
});

describe('Microsoft 365 for the web: stricter save rules', () => {
  it('answers CheckFileInfo with the Microsoft properties and does not let a Collabora timestamp open an unlocked file', async () => {
    const host = await startHost({ clock: realClock, editor: { flavour: 'microsoft' } });
    try {
      const id = await host.addFile('Deck.pptx', 'v1');
      const c = await host.client(id);
      const info = (await c.checkFileInfo()).json;
      for (const required of ['BaseFileName', 'OwnerId', 'Size', 'UserId', 'Version']) assert.ok(required in info);
      assert.equal(info.SupportsCobalt, false);
      assert.equal(info.HostEditNewUrl, `${host.url}/files/${id}/open?action=editnew`);
      const res = await c.putFile('v2', { 'X-COOL-WOPI-Timestamp': info.LastModifiedTime });
      assert.equal(res.status, 409);
      assert.equal(res.headers.get('X-WOPI-Lock'), '');
      assert.equal((await c.content()).toString(), 'v1');
    } finally {
      await host.close();
    }
  });
});
