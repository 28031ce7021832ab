import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launchChromium, SCREENSHOTS } from './helpers/browser.ts';
import { apiAs, signIn, startHost, storageKinds, type TestHost, WopiClient } from './helpers/host.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

interface Link {
  id: string;
  url: string;
}

/** A guest's visit: the link's form posted, the pass cookie kept, the host page's token read. */
async function visit(host: TestHost, link: Link, form: Record<string, string>) {
  const posted = await fetch(`${host.url}${link.url}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
  const text = await posted.text();
  const cookie = posted.headers.get('set-cookie')?.split(';')[0];
  if (posted.status !== 303 || !cookie) return { status: posted.status, text };
  const opened = await fetch(`${host.url}${link.url}/open`, { headers: { cookie }, redirect: 'manual' });
  const html = await opened.text();
  const token = html.match(/name="access_token" value="([^"]+)"/)?.[1];
  return { status: opened.status, text: html, cookie, token };
}

for (const kind of storageKinds) {
  describe(`share links and their guests [${kind.name}]`, () => {
    let host: TestHost;
    let editor: StandInEditor;
    let ann: string;
    let fileId: string;
    let link: Link;

    before(async () => {
      editor = await startStandInEditor();
      host = await startHost({ storageKind: kind, editor: { url: editor.url } });
      await host.quire.editor.current();
      const signedIn = await signIn(host, 'ann', { displayName: 'Ann Owner' });
      ann = signedIn.cookie;
      fileId = await host.addFile('Guest book.docx', 'welcome', signedIn.user.id);
      const made = await apiAs(host, ann, { 'Content-Type': 'application/json' })(`/api/files/${fileId}/links`, {
        method: 'POST',
        body: JSON.stringify({ role: 'editor', password: 'open sesame' }),
      });
      assert.equal(made.status, 201, made.text);
      link = made.json as Link;
    });
    after(async () => {
      await host?.close();
      await editor?.close();
    });

    it('the link’s page says who shared what, and asks for a name and the password', async () => {
      const res = await fetch(`${host.url}${link.url}`);
      const html = await res.text();
      assert.equal(res.status, 200);
      assert.match(html, /Guest book\.docx/);
      assert.match(html, /Ann Owner shared this document/);
      assert.match(html, /You can edit it/);
      assert.match(html, /name="password"/);
      assert.equal((await fetch(`${host.url}/s/no-such-link`)).status, 404);
    });

    it('a wrong password opens nothing; the right one and a name open the editor as that guest, the same every time', async () => {
      const wrong = await visit(host, link, { name: 'Dora', password: 'guess' });
      assert.equal(wrong.status, 401);
      assert.match(wrong.text, /That password is not right/);

      const first = await visit(host, link, { name: 'Dora', password: 'open sesame' });
      assert.equal(first.status, 200, first.text);
      assert.ok(first.token);
      const c = new WopiClient(host.url, fileId, first.token);
      const info = (await c.checkFileInfo()).json as Record<string, unknown>;
      assert.equal(info.UserFriendlyName, 'Dora');
      assert.equal(info.UserCanWrite, true);
      assert.equal(info.UserCanNotWriteRelative, true, 'a guest creates no files');
      assert.match(String(info.UserId), /^guest-/);
      assert.equal((await c.lock('DORA')).status, 200);
      assert.equal((await c.putFile('signed by Dora', { 'X-WOPI-Lock': 'DORA' })).status, 200);
      assert.equal((await c.unlock('DORA')).status, 200);
      assert.equal((await c.deleteFile()).status, 401, 'a guest deletes nothing');

      const again = await visit(host, link, { name: 'DORA', password: 'open sesame' });
      const infoAgain = (await new WopiClient(host.url, fileId, again.token as string).checkFileInfo()).json as Record<
        string,
        unknown
      >;
      assert.equal(infoAgain.UserId, info.UserId, 'one guest per link and name: one cursor, one author');

      const anonymous = await visit(host, link, { name: '', password: 'open sesame' });
      const anonInfo = (await new WopiClient(host.url, fileId, anonymous.token as string).checkFileInfo())
        .json as Record<string, unknown>;
      assert.notEqual(anonInfo.UserId, info.UserId);
      assert.equal(anonInfo.UserFriendlyName, 'Guest');

      // with the pass cookie, the page goes straight to the editor
      const back = await fetch(`${host.url}${link.url}`, {
        headers: { cookie: first.cookie as string },
        redirect: 'manual',
      });
      assert.equal(back.status, 303);
      assert.equal(back.headers.get('location'), `${link.url}/open`);
      const opened = (await apiAs(host, ann)(`/api/files/${fileId}/events?limit=50`)).json as Array<{
        type: string;
        details?: { link?: string };
      }>;
      assert.ok(
        opened.some((e) => e.type === 'file.opened' && e.details?.link === link.id),
        'the open is audited',
      );
    });

    it('a disabled link opens nothing and ends the editors opened through it', async () => {
      const v = await visit(host, link, { name: 'Emil', password: 'open sesame' });
      const c = new WopiClient(host.url, fileId, v.token as string);
      assert.equal((await c.checkFileInfo()).status, 200);
      const off = await apiAs(host, ann, { 'Content-Type': 'application/json' })(
        `/api/files/${fileId}/links/${link.id}`,
        { method: 'PATCH', body: '{"disabled":true}' },
      );
      assert.equal(off.status, 200, off.text);
      assert.equal((await fetch(`${host.url}${link.url}`)).status, 410);
      assert.equal(
        (await fetch(`${host.url}${link.url}/open`, { headers: { cookie: v.cookie as string }, redirect: 'manual' }))
          .status,
        410,
      );
      host.clock.advance(1001);
      assert.equal((await c.checkFileInfo()).status, 401);
      const on = await apiAs(host, ann, { 'Content-Type': 'application/json' })(
        `/api/files/${fileId}/links/${link.id}`,
        { method: 'PATCH', body: '{"disabled":false}' },
      );
      assert.equal(on.status, 200);
    });
  });
}

describe('a share link’s page, in a real browser', { skip: chromiumMissing }, () => {
  let host: TestHost;
  let editor: StandInEditor;
  let browser: Browser;
  let url: string;
  before(async () => {
    editor = await startStandInEditor();
    host = await startHost({ clock: { now: () => Date.now() }, editor: { url: editor.url } });
    const { cookie, user } = await signIn(host, 'ann', { displayName: 'Ann Owner' });
    const id = await host.addFile('Quarterly review.docx', 'slides', user.id);
    const made = await apiAs(host, cookie, { 'Content-Type': 'application/json' })(`/api/files/${id}/links`, {
      method: 'POST',
      body: JSON.stringify({ role: 'commenter', password: 'open sesame', secureView: { watermark: '{name}' } }),
    });
    url = (made.json as Link).url;
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await host?.close();
    await editor?.close();
  });

  it('a guest gives a name and the password, and lands in the editor', async () => {
    for (const [viewport, shot] of [
      [{ width: 1200, height: 800 }, 'guest-link.png'],
      [{ width: 390, height: 844 }, 'guest-link-phone.png'],
    ] as const) {
      const page = await browser.newPage({ viewport });
      await page.goto(`${host.url}${url}`);
      await page.getByLabel('Your name').fill('Dora');
      await page.getByLabel('Password').fill('wrong');
      await page.getByRole('button', { name: 'Open document' }).click();
      await page.getByRole('alert').waitFor();
      const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      assert.ok(Number(overflow) <= 0, 'no sideways scrolling');
      await page.screenshot({ path: join(SCREENSHOTS, shot) });
      await page.getByLabel('Password').fill('open sesame');
      await Promise.all([
        page.waitForURL(`${host.url}${url}/open`),
        page.getByRole('button', { name: 'Open document' }).click(),
      ]);
      await page.frameLocator('#editor_frame').locator('body').waitFor();
      await page.close();
    }
  });
});
