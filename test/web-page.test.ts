import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { templatePath } from '../src/documents/templates.ts';
import { chromiumMissing, launchChromium, SCREENSHOTS, signInThroughPage } from './helpers/browser.ts';
import { startHost, type TestHost } from './helpers/host.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

describe("Quire's web page, in a real browser", { skip: chromiumMissing }, () => {
  let host: TestHost;
  let annId: string;
  let editor: StandInEditor;
  let browser: Browser;
  let page: Page;

  before(async () => {
    editor = await startStandInEditor();
    host = await startHost({ clock: { now: () => Date.now() }, editor: { url: editor.url } });
    const ann = await host.quire.accounts?.create({
      name: 'ann',
      displayName: 'Ann Editor',
      password: 'correct horse 1',
    });
    annId = ann?.id ?? '';
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await host?.close();
    await editor?.close();
  });

  const row = (name: string) => page.locator(`#files tbody tr[data-name="${name}"]`);
  const fileIdOf = async (name: string) => (await row(name).getAttribute('data-file')) as string;

  it('walks a document through its life: upload, templates, rename, edit, history, restore, download, delete', async () => {
    await signInThroughPage(page, host.url, 'ann', 'correct horse 1');
    await page.waitForSelector('body[data-ready="true"]');

    // upload by drag and drop
    const original = Buffer.concat([Buffer.from('Quarterly notes '), randomBytes(64 * 1024).map((b) => 65 + (b % 26))]);
    // (browser code as a string: this file is type-checked against Node's globals, not the DOM's)
    const dataTransfer = await page.evaluateHandle(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(${JSON.stringify([...original])})], 'notes.docx'));
      return dt;
    })()`);
    await page.dispatchEvent('#dropzone', 'drop', { dataTransfer });
    await row('notes.docx').waitFor();
    await page.getByText('Uploaded notes.docx').waitFor();
    assert.equal(await page.locator('#files tbody tr').count(), 1, 'one drop, one upload');
    assert.match(await row('notes.docx').innerText(), /Ann Editor/);

    // a new document, spreadsheet and presentation from the shipped templates
    for (const [button, name, kind] of [
      ['New document', 'New document.docx', 'document'],
      ['New spreadsheet', 'New spreadsheet.xlsx', 'spreadsheet'],
      ['New presentation', 'New presentation.pptx', 'presentation'],
    ] as const) {
      await page.getByRole('button', { name: button }).click();
      await row(name).waitFor();
      const res = await page.request.get(`${host.url}/api/files/${await fileIdOf(name)}/content`);
      assert.deepEqual(Buffer.from(await res.body()), await readFile(templatePath(kind)), `${name} is the template`);
    }

    // rename
    await page.getByRole('button', { name: 'Rename notes.docx' }).click();
    await page.getByLabel('New name').fill('Quarterly notes.docx');
    await page.locator('#rename-dialog').getByRole('button', { name: 'Rename' }).click();
    await row('Quarterly notes.docx').waitFor();
    const id = await fileIdOf('Quarterly notes.docx');
    await page.screenshot({ path: join(SCREENSHOTS, 'file-list.png'), fullPage: true });

    // open it in the editor; the stand-in saves a new version over WOPI, then the user closes it
    await page.getByRole('link', { name: 'Edit Quarterly notes.docx' }).click();
    const frame = page.frameLocator('#editor_frame');
    await frame.getByText('done', { exact: true }).waitFor({ timeout: 20_000 });
    assert.ok((await frame.locator('#log').innerText()).includes('PutFile 200 version 2'));
    await Promise.all([page.waitForURL(`${host.url}/`), frame.locator('#close').click()]);
    await page.waitForSelector('body[data-ready="true"]');

    // the history shows both versions, who and when
    await page.getByRole('link', { name: 'History of Quarterly notes.docx' }).click();
    await page.waitForSelector('body[data-ready="true"]');
    const versions = page.locator('#versions tbody tr');
    assert.equal(await versions.count(), 2);
    const newest = await versions.nth(0).innerText();
    assert.match(newest, /^2/);
    assert.match(newest, /current/);
    assert.match(newest, /Ann Editor/);
    assert.match(newest, /Saved/);
    assert.match(await versions.nth(1).innerText(), /Uploaded/);
    const when = await versions.nth(0).locator('time').getAttribute('datetime');
    assert.ok(when && Math.abs(Date.parse(when) - Date.now()) < 5 * 60_000, `recent time, got ${when}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'history.png'), fullPage: true });

    // restore the first version: it becomes version 3
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    await page.getByText('Version 1 restored as version 3.').waitFor();
    assert.equal(await versions.count(), 3);
    assert.match(await versions.nth(0).innerText(), /Restored/);

    // download and compare bytes
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download', exact: true }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'Quarterly notes.docx');
    assert.deepEqual(await readFile((await download.path()) as string), original);

    // delete
    await page.getByRole('link', { name: '← All documents' }).click();
    await page.waitForSelector('body[data-ready="true"]');
    const deleteButton = page.getByRole('button', { name: 'Delete Quarterly notes.docx' });
    assert.equal(await deleteButton.innerText(), 'Delete');
    const colors = await deleteButton.evaluate((b) => {
      // runs in the browser; this file is type-checked without the DOM library
      const style = (
        globalThis as unknown as { getComputedStyle(e: unknown): { color: string; backgroundColor: string } }
      ).getComputedStyle(b);
      return [style.color, style.backgroundColor];
    });
    assert.notEqual(colors[0], colors[1], 'the Delete label is readable');
    await deleteButton.click();
    await page.locator('#confirm-dialog').getByRole('button', { name: 'Delete' }).click();
    await row('Quarterly notes.docx').waitFor({ state: 'detached' });
    assert.equal((await page.request.get(`${host.url}/api/files/${id}`)).status(), 404);
  });

  it('signs in, and answers a missing document, on pages styled like the rest', async () => {
    const fresh = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    // runs in the browser; this file is type-checked without the DOM library
    const backgroundOf = (selector: string) =>
      fresh
        .locator(selector)
        .evaluate(
          (e) =>
            (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(e)
              .backgroundColor,
        );
    await fresh.goto(`${host.url}/login`);
    assert.equal(await backgroundOf('button[type="submit"]'), 'rgb(26, 95, 180)', 'app.css applies');
    await fresh.screenshot({ path: join(SCREENSHOTS, 'sign-in.png'), fullPage: true });

    await fresh.getByLabel('Name').fill('ann');
    await fresh.getByLabel('Password').fill('not the password');
    await fresh.getByRole('button', { name: 'Sign in' }).click();
    assert.match((await fresh.getByRole('alert').textContent()) ?? '', /do not match/);
    await fresh.screenshot({ path: join(SCREENSHOTS, 'sign-in-refused.png'), fullPage: true });

    await fresh.getByLabel('Password').fill('correct horse 1');
    await Promise.all([fresh.waitForURL(`${host.url}/`), fresh.getByRole('button', { name: 'Sign in' }).click()]);
    const missing = await fresh.goto(`${host.url}/files/no-such-id`);
    assert.equal(missing?.status(), 404);
    await fresh.getByRole('heading', { name: 'No such document' }).waitFor();
    await fresh.screenshot({ path: join(SCREENSHOTS, 'not-found.png'), fullPage: true });
    await fresh.close();
  });

  it("shows a document's rescued saves with their reason, and restores one as the newest version", async () => {
    const id = await host.addFile('Contested.docx', 'first', annId);
    const holder = await host.client(id);
    assert.equal((await holder.lock('HOLDER')).status, 200);
    const late = await host.client(id);
    assert.equal((await late.putFile('the late edit', { 'X-WOPI-Lock': 'LATE' })).status, 409);
    assert.equal((await holder.unlock('HOLDER')).status, 200);

    const history = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await signInThroughPage(history, host.url, 'ann', 'correct horse 1');
    await history.goto(`${host.url}/files/${id}`);
    await history.waitForSelector('body[data-ready="true"]');
    const section = history.getByRole('region', { name: 'Rescued saves' });
    await section.waitFor();
    assert.equal(await section.locator('tbody tr').count(), 1);
    assert.equal(await section.locator('.reason').getAttribute('data-reason'), 'lock mismatch');
    assert.equal(await section.locator('.reason').textContent(), 'Someone else had it open for editing');
    await history.screenshot({ path: join(SCREENSHOTS, 'history-rescued.png'), fullPage: true });
    // at phone width too: nothing wider than the screen
    await history.setViewportSize({ width: 390, height: 844 });
    const overflow = await history.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 0, `history is ${overflow}px wider than the phone`);
    await history.screenshot({ path: join(SCREENSHOTS, 'history-rescued-phone.png'), fullPage: true });
    await history.setViewportSize({ width: 1200, height: 900 });
    await section.getByRole('button', { name: /Restore the save rescued/ }).click();
    await history.getByText('The rescued save is now version 2.').waitFor();
    assert.equal(await history.locator('#versions tbody tr').count(), 2);
    assert.equal((await holder.content()).toString(), 'the late edit');
    await history.close();
  });

  it('updates the document list live when another client saves', async () => {
    const id = await host.addFile('Live notes.docx', 'short', annId);
    const list = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await signInThroughPage(list, host.url, 'ann', 'correct horse 1');
    await list.waitForSelector('body[data-ready="true"]');
    const liveRow = list.locator('#files tbody tr[data-name="Live notes.docx"]');
    assert.equal(await liveRow.locator('td[data-label="Size"]').textContent(), '5 B');
    // an editor (not this page) locks and saves
    const c = await host.client(id);
    assert.equal((await c.lock('LIVE')).status, 200);
    assert.equal((await c.putFile('a much longer text now', { 'X-WOPI-Lock': 'LIVE' })).status, 200);
    // no reload: the stream of events redraws the list
    await liveRow.locator('td[data-label="Size"]', { hasText: /^22 B$/ }).waitFor({ timeout: 10_000 });
    assert.ok(await list.evaluate<string | undefined>('document.body.dataset.liveEvent'), 'redrawn by a live event');
    await list.screenshot({ path: join(SCREENSHOTS, 'file-list-live.png'), fullPage: true });
    assert.equal((await c.unlock('LIVE')).status, 200);
    await list.close();
  });

  it('is usable at phone size', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signInThroughPage(phone, host.url, 'ann', 'correct horse 1');
    await phone.waitForSelector('body[data-ready="true"]');
    // nothing wider than the screen, and the actions stay reachable
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await phone.getByRole('link', { name: 'Edit New document.docx' }).waitFor();
    await phone.screenshot({ path: join(SCREENSHOTS, 'file-list-phone.png'), fullPage: true });
    await phone.close();
  });
});
