import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launchChromium, SCREENSHOTS, signInThroughPage } from './helpers/browser.ts';
import { startHost, type TestHost } from './helpers/host.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

describe('opening a document in an editor, in a real browser', { skip: chromiumMissing }, () => {
  let host: TestHost;
  let editor: StandInEditor;
  let browser: Browser;

  before(async () => {
    editor = await startStandInEditor();
    // a real clock: the browser and the stand-in check nothing against it, and tokens must not look expired
    host = await startHost({ clock: { now: () => Date.now() }, editor: { url: editor.url, proofKeys: 'enforce' } });
    await host.quire.accounts?.create({
      name: 'ann',
      displayName: 'Ann Editor',
      password: 'correct horse 1',
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await host?.close();
    await editor?.close();
  });

  it('signs in, posts the token into the editor frame, and the editor edits the file over WOPI', async () => {
    const owner = await host.quire.accounts?.findByName('ann');
    const fileId = await host.addFile('Letter.docx', 'Hello', owner?.id);
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${host.url}/`);
    assert.match(page.url(), /\/login/, 'signed-out visitors are sent to sign in');
    await signInThroughPage(page, host.url, 'ann', 'correct horse 1');

    await page.goto(`${host.url}/files/${fileId}/open?action=edit`);
    const frame = page.frameLocator('#editor_frame');
    await frame.getByText('done', { exact: true }).waitFor({ timeout: 20_000 });
    const steps = await frame.locator('#log li').allTextContents();
    assert.deepEqual(
      steps
        .filter((s) => /^(CheckFileInfo|Lock|GetFile|PutFile|RefreshLock|Unlock)/.test(s))
        .map((s) => s.split(' ')[0]),
      ['CheckFileInfo', 'Lock', 'GetFile', 'PutFile', 'RefreshLock', 'Unlock'],
    );
    assert.ok(steps.includes('CheckFileInfo Letter.docx as Ann Editor write=true'), steps.join('\n'));
    assert.ok(steps.includes('Lock 200') && steps.includes('RefreshLock 200') && steps.includes('Unlock 200'));
    assert.ok(steps.includes('GetFile "Hello"'), steps.join('\n'));
    assert.ok(
      steps.some((s) => s.startsWith('PutFile 200 version 2')),
      steps.join('\n'),
    );
    // the host page answered the editor's App_LoaderStarted
    assert.ok(steps.includes('host says Host_PostmessageReady'), steps.join('\n'));
    assert.equal(await page.locator('body').getAttribute('data-editor-state'), 'loaded');

    // the token travelled in the POSTed form, never in a URL
    assert.equal(editor.posts.length, 1);
    const post = editor.posts[0]!;
    assert.ok(post.accessToken && post.accessToken.length > 20);
    assert.ok(Number(post.accessTokenTtl) > Date.now());
    assert.ok(!post.url.includes(post.accessToken));
    assert.ok(!page.url().includes('access_token'));
    assert.equal(new URL(post.url).searchParams.get('wopisrc'), `${host.url}/wopi/files/${fileId}`);

    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'host-page.png') });

    // read the new version back over WOPI, as a separate client
    const c = await host.client(fileId);
    assert.equal((await c.content()).toString(), 'Hello (edited in the browser)');
    assert.equal((await c.getLock()).headers.get('X-WOPI-Lock'), '');
    const [latest] = await host.quire.host.storage.catalog.listVersions(fileId);
    const ann = await host.quire.accounts?.findByName('ann');
    assert.equal(latest?.authorId, ann?.id);
    assert.equal(latest?.modifiedByUser, true);
    assert.equal(latest?.editors, ann?.id);

    // UI_Close from the editor takes the user back to the document list
    await Promise.all([page.waitForURL(`${host.url}/`), frame.locator('#close').click()]);
    await page.close();
  });

  it('refuses to open a document for someone not signed in', async () => {
    const fileId = await host.addFile('Private.docx', 'x');
    const res = await fetch(`${host.url}/files/${fileId}/open?action=edit`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /^\/login\?next=/);
  });
});
