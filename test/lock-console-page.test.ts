import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, launchChromium, SCREENSHOTS, SignedInPages } from './helpers/browser.ts';
import { startHost, type TestHost, type WopiClient } from './helpers/host.ts';
import { lockOf } from './helpers/misc-helpers.ts';

/**
 * The editing sessions page (the lock console), in a real browser: who sees which sessions, breaking a lock through
 * the dialog (a reason is required; Escape closes it), the empty state, and live updates from the event stream.
 */

const PASSWORD = 'correct horse 1';
const COLLABORA_AGENT = 'COOLWSD HTTP Agent 24.04.6.1';

describe('the editing sessions page, in a real browser', { skip: chromiumMissing }, () => {
  let host: TestHost;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const pages = new SignedInPages(
    () => browser,
    () => host.url,
    PASSWORD,
  );

  before(async () => {
    host = await startHost({ clock: { now: () => Date.now() } });
    const users = host.quire.accounts;
    assert.ok(users);
    for (const [name, displayName, isAdmin] of [
      ['root', 'Rita Admin', true],
      ['olga', 'Olga Owner', false],
      ['otto', 'Otto Owner', false],
      ['nina', 'Nina Nobody', false],
    ] as const) {
      ids[name] = (await users.create({ name, displayName, password: PASSWORD, isAdmin })).id;
    }
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await pages.closeAll();
    await browser?.close();
    await host?.close();
  });

  /** A signed-in page on the editing sessions page, its list drawn and its event stream open. */
  async function consoleAs(name: string, viewport = { width: 1200, height: 900 }): Promise<Page> {
    const page = await pages.as(name, viewport);
    await page.goto(`${host.url}/locks`);
    await page.waitForSelector('body[data-ready="true"][data-live="live"]');
    return page;
  }

  const sessionRow = (page: Page, name: string) => page.locator(`#sessions li[data-name="${name}"]`);
  const rowNames = (page: Page) => page.locator('#sessions li').evaluateAll((lis) => lis.map((li) => li.dataset.name));

  /** A WOPI client, as the editor of `userName`, holding the lock on `fileId`. */
  async function lockAs(fileId: string, lock: string, userName: string): Promise<WopiClient> {
    const client = await host.client(
      fileId,
      await host.token(fileId, { userId: userName.toLowerCase().split(' ')[0], userName }),
    );
    assert.equal((await client.lock(lock, { 'User-Agent': COLLABORA_AGENT })).status, 200);
    return client;
  }

  const overflowOf = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');

  it('shows an owner only the sessions on their own documents, and an admin all of them', async () => {
    const budget = await host.addFile('Budget 2026.xlsx', 'v1', ids.olga);
    const plan = await host.addFile('Plan.docx', 'v1', ids.otto);
    const budgetEditor = await lockAs(budget, 'BUDGET-LOCK', 'Alice Example');
    const planEditor = await lockAs(plan, 'PLAN-LOCK', 'Bob Example');
    assert.equal((await budgetEditor.putFile('v2', { 'X-WOPI-Lock': 'BUDGET-LOCK' })).status, 200);

    const olga = await consoleAs('olga');
    assert.deepEqual(await rowNames(olga), ['Budget 2026.xlsx'], "Olga sees her document, not Otto's");
    assert.match((await olga.locator('#locks-scope').textContent()) ?? '', /Your documents/);
    const otto = await consoleAs('otto');
    assert.deepEqual(await rowNames(otto), ['Plan.docx']);

    const admin = await consoleAs('root');
    assert.deepEqual(await rowNames(admin), ['Budget 2026.xlsx', 'Plan.docx'], 'an admin sees every session');
    assert.match((await admin.locator('#locks-scope').textContent()) ?? '', /As an admin/);
    const row = sessionRow(admin, 'Budget 2026.xlsx');
    const fact = (label: string) => row.locator('.fact', { hasText: label }).locator('dd time').textContent();
    assert.equal(await row.locator('.session-who').textContent(), 'AEAlice Example is editing in Collabora Online');
    assert.equal(await row.locator('.client').getAttribute('title'), COLLABORA_AGENT, 'the full client on hover');
    assert.equal(await fact('Since'), 'just now');
    assert.equal(await fact('Last save'), 'just now');
    assert.equal(await fact('Lock runs out'), 'in 30 min');
    assert.match((await sessionRow(admin, 'Plan.docx').textContent()) ?? '', /Not saved yet/);
    await admin.screenshot({ path: join(SCREENSHOTS, 'locks.png'), fullPage: true });

    await admin.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(admin)) <= 0, 'nothing wider than a phone');
    await admin.screenshot({ path: join(SCREENSHOTS, 'locks-phone.png'), fullPage: true });
    await admin.setViewportSize({ width: 1200, height: 900 });

    assert.equal((await budgetEditor.unlock('BUDGET-LOCK')).status, 200);
    assert.equal((await planEditor.unlock('PLAN-LOCK')).status, 200);
    // the pages follow the event stream: the sessions go without a reload
    for (const page of [olga, otto, admin]) await page.locator('#sessions-empty').waitFor({ timeout: 10_000 });
  });

  it('breaks a lock through the dialog: a reason is required, Escape cancels, the row goes with feedback', async () => {
    const report = await host.addFile('Quarterly report.docx', 'v1', ids.olga);
    const editor = await lockAs(report, 'DEAD-EDITOR', 'Alice Example');
    const admin = await consoleAs('root');
    const row = sessionRow(admin, 'Quarterly report.docx');
    const breakButton = admin.getByRole('button', { name: 'Break the lock on Quarterly report.docx' });
    const dialog = admin.getByRole('dialog', { name: 'Break the lock on Quarterly report.docx?' });
    const activeId = () => admin.evaluate<string>('document.activeElement?.id ?? ""');

    // opened from the keyboard, the reason field has the focus; Escape closes and gives the focus back
    await breakButton.focus();
    await admin.keyboard.press('Enter');
    await dialog.waitFor();
    assert.equal(await activeId(), 'break-reason');
    assert.match((await dialog.textContent()) ?? '', /Alice Example will no longer be able to save into it/);
    await admin.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(
      await admin.evaluate<string>('document.activeElement?.getAttribute("aria-label") ?? ""'),
      'Break the lock on Quarterly report.docx',
    );
    assert.equal(lockOf(await editor.getLock()), 'DEAD-EDITOR', 'cancelling changed nothing');

    // no reason: refused in the dialog, which stays open
    await breakButton.click();
    await dialog.getByRole('button', { name: 'Break lock' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Say why' }).waitFor();
    assert.equal(await dialog.getByLabel(/Why\?/).getAttribute('aria-invalid'), 'true');
    assert.equal(lockOf(await editor.getLock()), 'DEAD-EDITOR', 'no reason, no break');

    const reason = "Alice's laptop crashed <b>hard</b> & the document is stuck";
    await dialog.getByLabel(/Why\?/).fill(reason);
    await admin.screenshot({ path: join(SCREENSHOTS, 'locks-break-dialog.png') });
    await dialog.getByRole('button', { name: 'Break lock' }).click();
    await admin.getByRole('status').filter({ hasText: 'Lock on Quarterly report.docx broken.' }).waitFor();
    await row.waitFor({ state: 'detached' });
    await admin.locator('#sessions-empty').waitFor();
    assert.equal(await activeId(), 'sessions-empty-title', 'the focus lands on what replaced the row');
    await admin.screenshot({ path: join(SCREENSHOTS, 'locks-broken.png'), fullPage: true });

    // the lock is gone for the editor, and the break is in the log with its reason, as written
    assert.equal(lockOf(await editor.getLock()), '');
    const res = await admin.request.get(`${host.url}/api/events?file=${report}&limit=1`);
    const [event] = (await res.json()) as Array<{ type: string; user: { id: string }; details: { reason: string } }>;
    assert.equal(event?.type, 'lock.broken');
    assert.equal(event?.user.id, ids.root);
    assert.equal(event?.details.reason, reason);
    // and the activity page tells it in words, the reason as written (text, not markup)
    await admin.goto(`${host.url}/activity?file=${report}`);
    await admin.waitForSelector('body[data-ready="true"]');
    const broke = admin.locator('#activity .event[data-type="lock.broken"] .event-what');
    assert.equal(await broke.textContent(), `Rita Admin broke the lock on Quarterly report.docx: ${reason}`);
    assert.equal(await broke.locator('b').count(), 0);
  });

  it('says so when no one is editing, on a desktop and on a phone', async () => {
    const nina = await consoleAs('nina');
    const empty = nina.getByRole('region', { name: 'No one is editing right now' });
    await empty.waitFor();
    assert.match((await empty.textContent()) ?? '', /None of your documents is open in an editor/);
    assert.equal(await nina.locator('#sessions li').count(), 0);
    await nina.screenshot({ path: join(SCREENSHOTS, 'locks-empty.png'), fullPage: true });
    await nina.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(nina)) <= 0, 'nothing wider than a phone');
    await nina.screenshot({ path: join(SCREENSHOTS, 'locks-empty-phone.png'), fullPage: true });
  });

  it('shows a lock taken while the page is open, without a reload', async () => {
    const admin = await consoleAs('root');
    await admin.locator('#sessions-empty').waitFor();
    const notes = await host.addFile('Meeting notes.docx', 'v1', ids.otto);
    const editor = await lockAs(notes, 'LIVE-LOCK', 'Bob Example');
    const row = sessionRow(admin, 'Meeting notes.docx');
    await row.waitFor({ timeout: 10_000 });
    assert.match((await row.textContent()) ?? '', /Bob Example is editing/);
    assert.ok(await admin.evaluate<string | undefined>('document.body.dataset.liveEvent'), 'drawn by a live event');
    assert.equal(await admin.locator('#live').textContent(), 'Live');
    await admin.screenshot({ path: join(SCREENSHOTS, 'locks-live.png'), fullPage: true });
    assert.equal((await editor.unlock('LIVE-LOCK')).status, 200);
    await row.waitFor({ state: 'detached', timeout: 10_000 });
  });
});
