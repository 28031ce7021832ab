import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, launchChromium, SCREENSHOTS, SignedInPages } from './helpers/browser.ts';
import { apiAs, signIn, startHost, type TestHost } from './helpers/host.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

/**
 * The activity page (the audit log), in a real browser: events as sentences, filters by document and by person,
 * paging back, the JSON lines export, live additions, the empty state, and a phone-sized screen.
 */

const PASSWORD = 'correct horse 1';
const MARKUP = 'Mal <img src=x onerror="document.body.dataset.pwned=1">';

describe('the activity page, in a real browser', { skip: chromiumMissing }, () => {
  let host: TestHost;
  let editor: StandInEditor;
  let browser: Browser;
  let bobCookie: string;
  let malloryCookie: string;
  const pages = new SignedInPages(
    () => browser,
    () => host.url,
    PASSWORD,
  );

  before(async () => {
    editor = await startStandInEditor();
    host = await startHost({ clock: { now: () => Date.now() }, editor: { url: editor.url } });
    // an admin reads every document's activity (a non-admin's view is filtered: test/sharing.test.ts)
    await host.quire.accounts?.create({ name: 'ann', displayName: 'Ann Editor', password: PASSWORD, isAdmin: true });
    ({ cookie: bobCookie } = await signIn(host, 'bob', {
      displayName: 'Bob Builder',
      password: PASSWORD,
      isAdmin: true,
    }));
    ({ cookie: malloryCookie } = await signIn(host, 'mallory', { displayName: MARKUP, password: PASSWORD }));
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await pages.closeAll();
    await browser?.close();
    await host?.close();
    await editor?.close();
  });

  const signedIn = (name: string, viewport?: { width: number; height: number }) => pages.as(name, viewport);
  const ready = (page: Page) => page.waitForSelector('body[data-ready="true"][data-live="live"]');
  const sentences = (page: Page) =>
    page.locator('#activity .event-what').evaluateAll((ps) => ps.map((p) => (p.textContent ?? '').trim()));
  const overflowOf = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  const bob = (path: string, init: RequestInit = {}) =>
    apiAs(host, bobCookie, { 'Content-Type': 'application/json' })(path, init);

  it('says when nothing has happened yet', async () => {
    const page = await signedIn('ann');
    await page.goto(`${host.url}/activity`);
    await ready(page);
    await page.getByRole('region', { name: 'Nothing has happened yet' }).waitFor();
    assert.equal(await page.locator('#activity .event').count(), 0);
    await page.screenshot({ path: join(SCREENSHOTS, 'activity-empty.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(page)) <= 0, 'nothing wider than a phone');
    await page.screenshot({ path: join(SCREENSHOTS, 'activity-empty-phone.png'), fullPage: true });
  });

  it('tells what happened to a document in sentences, filters by document and person, and exports JSON lines', async () => {
    const page = await signedIn('ann');
    // Ann: a new document, opened in the (stand-in) editor, which locks, saves version 2 and unlocks; then a rename
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByRole('button', { name: 'New document' }).click();
    await page.locator('#files tbody tr[data-name="New document.docx"]').waitFor();
    await page.getByRole('link', { name: 'Edit New document.docx' }).click();
    await page.frameLocator('#editor_frame').getByText('done', { exact: true }).waitFor({ timeout: 20_000 });
    await page.goto(`${host.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByRole('button', { name: 'Rename New document.docx' }).click();
    await page.getByLabel('New name').fill('Minutes.docx');
    await page.locator('#rename-dialog').getByRole('button', { name: 'Rename' }).click();
    const minutes = page.locator('#files tbody tr[data-name="Minutes.docx"]');
    await minutes.waitFor();
    const minutesId = (await minutes.getAttribute('data-file')) as string;
    // Bob: a document of his own; and someone whose name is markup, which must stay text
    const upload = async (cookie: string, name: string) => {
      const res = await fetch(`${host.url}/api/files?name=${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { Cookie: cookie, Accept: 'application/json' },
        body: 'hello',
      });
      assert.equal(res.status, 201);
    };
    await upload(bobCookie, "Bob's plans & notes.txt");
    await upload(malloryCookie, 'Mal.txt');
    // from the document's row to its activity
    await minutes.getByRole('link', { name: 'Activity of Minutes.docx' }).click();
    await page.waitForURL(`${host.url}/activity?file=${minutesId}`);
    await ready(page);
    assert.deepEqual(await sentences(page), [
      'Ann Editor renamed New document.docx to Minutes.docx',
      'Ann Editor released the lock on Minutes.docx',
      'Ann Editor saved version 2 of Minutes.docx',
      'Ann Editor took the lock on Minutes.docx',
      'Ann Editor opened Minutes.docx for editing',
      'Ann Editor created Minutes.docx from a blank template',
    ]);
    assert.equal(await page.locator('#filter-file').inputValue(), minutesId);
    assert.match((await page.locator('.lead').textContent()) ?? '', /Everything that happened to Minutes\.docx/);
    // who, when (relative, the exact time on hover), with what, from where
    const saved = page.locator('#activity .event[data-type="file.saved"]');
    const meta = (await saved.locator('.event-meta').textContent()) ?? '';
    assert.match(meta, /just now/);
    assert.match(meta, /from 127\.0\.0\.1/);
    assert.match(meta, /Chrome on Linux/, 'the stand-in editor runs in the browser');
    const when = await saved.locator('time').getAttribute('datetime');
    assert.ok(when && Math.abs(Date.parse(when) - Date.now()) < 5 * 60_000);
    assert.ok(await saved.locator('time').getAttribute('title'), 'the exact time on hover');
    await page.screenshot({ path: join(SCREENSHOTS, 'activity-document.png'), fullPage: true });

    // all documents: Bob's and Mallory's uploads are there too, every name shown as text
    await page.getByLabel('Document').selectOption('');
    await page.waitForURL(`${host.url}/activity`);
    await ready(page);
    await page.locator('#activity .event[data-type="file.created"]', { hasText: 'Mal.txt' }).waitFor();
    const all = await sentences(page);
    assert.ok(all.includes("Bob Builder uploaded Bob's plans & notes.txt"), all.join('\n'));
    assert.ok(all.includes(`${MARKUP} uploaded Mal.txt`), 'a name that looks like markup is shown as written');
    assert.equal(await page.locator('#activity img').count(), 0, 'names are text, never markup');
    assert.equal(await page.evaluate<string | undefined>('document.body.dataset.pwned'), undefined);
    assert.ok(
      (await page.locator('#filter-user option').allTextContents()).includes(MARKUP),
      'the person filter lists everyone seen',
    );

    // by person: only Bob
    await page.getByLabel('Person').selectOption({ label: 'Bob Builder' });
    await page.waitForURL(/user=/);
    await ready(page);
    await page.locator('#activity .event').first().waitFor();
    assert.deepEqual(await sentences(page), ["Bob Builder uploaded Bob's plans & notes.txt"]);
    // and both: Bob did nothing to Minutes.docx
    await page.getByLabel('Document').selectOption(minutesId);
    await page.getByRole('region', { name: 'Nothing matches these filters' }).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForURL(`${host.url}/activity`);
    await ready(page);
    await page.getByRole('status').filter({ hasText: 'Filters cleared' }).waitFor();
    // clicking a name filters by that person
    await page.locator('#activity a.who', { hasText: 'Bob Builder' }).first().click();
    await page.waitForURL(/user=/);
    await ready(page);
    assert.deepEqual(await sentences(page), ["Bob Builder uploaded Bob's plans & notes.txt"]);
    await page.goBack();
    await page.waitForURL(`${host.url}/activity`);
    await ready(page);

    // the export follows the filters: JSON lines of the same events
    await page.getByLabel('Document').selectOption(minutesId);
    await page.waitForURL(/file=/);
    await ready(page);
    const href = (await page.getByRole('link', { name: 'Export (JSON lines)' }).getAttribute('href')) as string;
    assert.match(href, new RegExp(`^/api/events\\.jsonl\\?file=${minutesId}`));
    const exported = await page.request.get(`${host.url}${href}`);
    assert.equal(exported.status(), 200);
    assert.match(exported.headers()['content-type'] ?? '', /application\/x-ndjson/);
    const lines = (await exported.text()).trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { type: string; fileId: string });
    assert.deepEqual(
      events.map((e) => e.type),
      ['file.renamed', 'lock.released', 'file.saved', 'lock.taken', 'file.opened', 'file.created'],
    );
    assert.ok(events.every((e) => e.fileId === minutesId));

    // a document's history page leads to its activity too
    await page.goto(`${host.url}/files/${minutesId}`);
    await page.getByRole('link', { name: 'Activity of Minutes.docx' }).click();
    await page.waitForURL(`${host.url}/activity?file=${minutesId}`);
    await ready(page);
  });

  it('adds new events as they happen, and pages back with "Load more"', async () => {
    const page = await signedIn('ann');
    const id = await host.addFile('Ledger.xlsx', 'v1', 'ann');
    // more events than one page holds
    for (let i = 0; i < 55; i++) assert.equal((await bob(`/api/files/${id}/content`)).status, 200);
    await page.goto(`${host.url}/activity?file=${id}`);
    await ready(page);
    const rows = page.locator('#activity .event');
    assert.equal(await rows.count(), 50, 'one page');
    assert.equal(
      await rows.first().locator('.event-what').textContent(),
      'Bob Builder downloaded version 1 of Ledger.xlsx',
    );
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByText('That is everything: the log starts here.').waitFor();
    assert.equal(await rows.count(), 56, '55 downloads and the import');
    assert.equal(await page.getByRole('button', { name: 'Load more' }).isHidden(), true);
    await page.getByRole('status').filter({ hasText: 'Loaded 6 older events.' }).waitFor();

    // someone renames it elsewhere: the event arrives at the top, without a reload
    assert.equal(
      (await bob(`/api/files/${id}/rename`, { method: 'POST', body: JSON.stringify({ name: 'Ledger 2026.xlsx' }) }))
        .status,
      200,
    );
    const top = rows.first();
    await top
      .locator('.event-what', { hasText: 'renamed Ledger.xlsx to Ledger 2026.xlsx' })
      .waitFor({ timeout: 10_000 });
    assert.equal(await top.getAttribute('data-type'), 'file.renamed');
    assert.equal(
      await page.evaluate<string | undefined>('document.body.dataset.liveEvent'),
      await top.getAttribute('data-event'),
    );
    // an event of another document stays out of this filtered view
    const other = await host.addFile('Elsewhere.docx', 'v1', 'ann');
    assert.equal((await bob(`/api/files/${other}/content`)).status, 200);
    assert.equal((await bob(`/api/files/${id}/content`)).status, 200);
    await rows
      .first()
      .locator('.event-what', { hasText: 'downloaded version 1 of Ledger 2026.xlsx' })
      .waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#activity .event', { hasText: 'Elsewhere.docx' }).count(), 0);
  });

  it('fits a phone: no horizontal overflow, filters and rows stacked', async () => {
    const page = await signedIn('ann', { width: 390, height: 844 });
    await page.goto(`${host.url}/activity`);
    await ready(page);
    await page.locator('#activity .event').first().waitFor();
    assert.ok((await overflowOf(page)) <= 0, `the activity page is ${await overflowOf(page)}px wider than the phone`);
    await page.screenshot({ path: join(SCREENSHOTS, 'activity-phone.png'), fullPage: false });
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.screenshot({ path: join(SCREENSHOTS, 'activity.png'), fullPage: false });
  });
});
