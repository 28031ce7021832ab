import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, launchChromium, SCREENSHOTS, SignedInPages } from './helpers/browser.ts';
import { startHost, type TestHost } from './helpers/host.ts';

/**
 * The Teams pages in a real browser: People & groups (admins), the document list's "My documents" and "Shared with
 * me" views with each role's actions, and the share dialog (people, groups, links), as the owner and read-only.
 */

const PASSWORD = 'correct horse 1';

describe('sharing and People & groups pages, in a real browser', { skip: chromiumMissing }, () => {
  let host: TestHost;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const pages = new SignedInPages(
    () => browser,
    () => host.url,
    PASSWORD,
  );
  let reportId = '';

  before(async () => {
    host = await startHost({ clock: { now: () => Date.now() } });
    const users = host.quire.accounts;
    assert.ok(users);
    for (const [name, displayName, isAdmin] of [
      ['root', 'Rita Admin', true],
      ['ann', 'Ann Owner', false],
      ['bob', 'Bob Viewer', false],
      ['cara', 'Cara <b>Colleague</b>', false],
      ['dan', 'Dan Departed', false],
    ] as const) {
      ids[name] = (await users.create({ name, displayName, password: PASSWORD, isAdmin })).id;
    }
    reportId = await host.addFile('Quarterly report.docx', 'v1', ids.ann);
    await host.addFile('Ann’s notes.docx', 'v1', ids.ann);
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await pages.closeAll();
    await browser?.close();
    await host?.close();
  });

  const signedIn = (name: string, viewport?: { width: number; height: number }) => pages.as(name, viewport);
  const overflowOf = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  const row = (page: Page, name: string) => page.locator(`#files tbody tr[data-name="${name}"]`);

  it('lets an admin create a group, add a member and disable a person; others get a 403', async () => {
    const admin = await signedIn('root');
    await admin.getByRole('navigation', { name: 'Quire' }).getByRole('link', { name: 'People & groups' }).click();
    await admin.waitForSelector('body[data-ready="true"]');
    assert.equal(new URL(admin.url()).pathname, '/admin');
    assert.equal(await admin.locator('#people-list li').count(), 5);
    // names are text, never markup
    assert.equal(await admin.locator('#people-list b').count(), 0);
    assert.match((await admin.locator('li[data-name="cara"]').textContent()) ?? '', /Cara <b>Colleague<\/b>/);

    // a group, then a member
    await admin.getByLabel('New group').fill('Design team');
    await admin.getByRole('button', { name: 'Create group' }).click();
    await admin.getByRole('status').filter({ hasText: 'Created the group Design team.' }).waitFor();
    const group = admin.locator('li.group[data-name="Design team"]');
    assert.match((await group.textContent()) ?? '', /No members yet/);
    await group.getByLabel('Add a member to Design team').selectOption(ids.cara as string);
    await group.getByRole('button', { name: 'Add to Design team' }).click();
    await admin.getByRole('status').filter({ hasText: 'Added Cara <b>Colleague</b> to Design team.' }).waitFor();
    await group.locator(`li.member[data-user="${ids.cara}"]`).waitFor();
    assert.match((await admin.locator('li[data-name="cara"]').textContent()) ?? '', /In Design team/);

    // disabling asks first; cancelling changes nothing
    const disable = admin.getByRole('button', { name: 'Disable Dan Departed' });
    await disable.click();
    const confirm = admin.getByRole('dialog', { name: 'Disable Dan Departed?' });
    await confirm.waitFor();
    await admin.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    assert.equal(await admin.locator('li[data-name="dan"] .badge', { hasText: 'Disabled' }).count(), 0);
    await disable.click();
    await confirm.getByRole('button', { name: 'Disable' }).click();
    await admin.getByRole('status').filter({ hasText: 'Dan Departed is disabled' }).waitFor();
    await admin.locator('li[data-name="dan"] .badge', { hasText: 'Disabled' }).waitFor();
    assert.equal(await admin.getByRole('button', { name: 'Enable Dan Departed' }).count(), 1);
    assert.equal((await host.quire.accounts?.findByName('dan'))?.disabledAt !== null, true, 'disabled for real');
    // an admin cannot lock themselves out from here
    assert.equal(await admin.getByRole('button', { name: 'Disable Rita Admin' }).count(), 0);

    // a person added through the form
    await admin.getByText('Add a person').click();
    await admin.getByLabel('Sign-in name').fill('erin');
    await admin.getByLabel('Display name').fill('Erin Example');
    await admin.getByLabel('Password', { exact: true }).fill('another horse 2');
    await admin.getByRole('button', { name: 'Add person' }).click();
    await admin.getByRole('status').filter({ hasText: 'Added Erin Example.' }).waitFor();
    await admin.locator('li[data-name="erin"]').waitFor();
    await admin.locator('#person-new').evaluate((d) => {
      (d as unknown as { open: boolean }).open = false;
    });
    await admin.evaluate('window.scrollTo(0, 0)');
    await admin.screenshot({ path: join(SCREENSHOTS, 'admin.png'), fullPage: true });

    await admin.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(admin)) <= 0, 'nothing wider than a phone');
    await admin.screenshot({ path: join(SCREENSHOTS, 'admin-phone.png'), fullPage: true });

    // not an admin: no link in the header, and a clear 403 at the address
    const bob = await signedIn('bob');
    assert.equal(await bob.getByRole('link', { name: 'People & groups' }).count(), 0);
    for (const path of ['/admin', '/admin/groups']) {
      const res = await bob.goto(`${host.url}${path}`);
      assert.equal(res?.status(), 403);
      await bob.getByRole('heading', { name: 'Admins only' }).waitFor();
    }
  });

  it('shares a document with a person and a group, and makes a link with a password, through the dialog', async () => {
    const ann = await signedIn('ann');
    await ann.waitForSelector('body[data-ready="true"]');
    assert.equal(await ann.locator('.views a[aria-current="page"]').textContent(), 'My documents');
    const share = ann.getByRole('button', { name: 'Share Quarterly report.docx' });
    await share.click();
    const dialog = ann.getByRole('dialog', { name: 'Share Quarterly report.docx' });
    await dialog.waitFor();
    await ann.waitForSelector('#share-dialog[data-ready="true"]');
    assert.match((await dialog.locator('#share-list').textContent()) ?? '', /Not shared with anyone else yet/);

    // Bob as a viewer
    await dialog.getByLabel('Person or group').selectOption(`user:${ids.bob}`);
    await dialog.getByLabel('Role', { exact: true }).selectOption('viewer');
    await dialog.getByRole('button', { name: 'Share', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: 'Shared with Bob Viewer (bob) as a viewer.' }).waitFor();
    assert.equal(await dialog.getByLabel('Role of Bob Viewer').inputValue(), 'viewer');

    // the group as editors, for secure view
    const groupId = (await host.quire.host.storage.access?.findGroup('design team'))?.id as string;
    await dialog.getByLabel('Person or group').selectOption(`group:${groupId}`);
    await dialog.getByLabel('Role', { exact: true }).selectOption('editor');
    await dialog.getByText('Secure view', { exact: true }).first().click();
    assert.equal(await dialog.getByLabel('Watermark').first().inputValue(), '{name} · {date}');
    await dialog.getByRole('button', { name: 'Share', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: 'Shared with Design team as an editor.' }).waitFor();
    assert.equal(await dialog.getByLabel('Role of Design team').inputValue(), 'editor');
    assert.equal(await dialog.locator('li[data-name="Design team"] .badge.secure').count(), 1);

    // a link with a password; its address is in the dialog's field
    await dialog.getByText('Create a link').click();
    await dialog.getByLabel(/^Password/).fill('s3cret-pass');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Link created, with a password.' }).waitFor();
    const address = dialog.getByLabel('Address of link 1');
    const url = await address.inputValue();
    assert.match(url, new RegExp(`^${host.url}/s/[^/]+$`));
    assert.match((await dialog.locator('li.link-item').textContent()) ?? '', /Password/);
    await dialog.getByRole('button', { name: 'Copy link 1' }).click();
    await dialog
      .getByRole('status')
      .filter({ hasText: /copied|press Ctrl\+C/ })
      .waitFor();
    // the link asks a guest for its password
    const guest = await fetch(url);
    assert.equal(guest.status, 200);
    assert.match(await guest.text(), /id="guest-password"/);
    await ann.screenshot({ path: join(SCREENSHOTS, 'share-dialog.png') });

    // on a phone, nothing in the dialog is wider than the screen
    await ann.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(ann)) <= 0, 'nothing wider than a phone');
    const dialogOverflow = await ann.evaluate<number>(
      "(() => { const d = document.getElementById('share-dialog'); return d.scrollWidth - d.clientWidth; })()",
    );
    assert.ok(dialogOverflow <= 0, `the dialog is ${dialogOverflow}px wider than itself`);
    await ann.screenshot({ path: join(SCREENSHOTS, 'share-dialog-phone.png') });
    await ann.setViewportSize({ width: 1200, height: 900 });

    // Escape closes it, and the focus goes back to the button that opened it
    await ann.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // (the list is redrawn after the changes: the focus lands on the redrawn row's button)
    await ann.locator('#files [aria-label="Share Quarterly report.docx"]:focus').waitFor({ timeout: 5000 });
    // an error from the API is shown in the dialog
    await share.click();
    await ann.waitForSelector('#share-dialog[data-ready="true"]');
    // (an admin deletes the group meanwhile)
    assert.equal(await host.quire.host.storage.access?.deleteGroup(groupId, Date.now()), true);
    await dialog.getByLabel('Role of Design team').selectOption('viewer');
    await dialog
      .getByRole('alert')
      .filter({ hasText: /No such group|no group named/i })
      .waitFor();
    await ann.keyboard.press('Escape');
  });

  it("changes a share's secure view and a link's expiry, password and secure view in place, saying what changed", async () => {
    const ann = await signedIn('ann');
    await ann.waitForSelector('body[data-ready="true"]');
    await ann.getByRole('button', { name: 'Share Quarterly report.docx' }).click();
    const dialog = ann.getByRole('dialog', { name: 'Share Quarterly report.docx' });
    await ann.waitForSelector('#share-dialog[data-ready="true"]');
    const storage = host.quire.host.storage;
    const bobShare = async () =>
      (await storage.access?.sharesOf(reportId))?.find((s) => s.principal.id === ids.bob)?.secureView;

    // a share's secure view: on, with a watermark of Ann's choosing
    const toggle = dialog.getByRole('button', { name: 'Secure view for Bob Viewer', exact: true });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    const panel = dialog.getByRole('form', { name: 'Secure view for Bob Viewer' });
    await panel.waitFor();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    // the focus is in the panel, on its checkbox: the keyboard goes on from there
    assert.equal(await ann.evaluate('document.activeElement.type'), 'checkbox');
    await ann.keyboard.press('Space');
    await panel.getByLabel('Watermark').fill('Confidential · {name}');
    await ann.screenshot({ path: join(SCREENSHOTS, 'share-dialog-share-settings.png') });
    await panel.getByRole('button', { name: 'Save secure view for Bob Viewer' }).click();
    await dialog
      .getByRole('status')
      .filter({ hasText: 'Bob Viewer: secure view on, with the watermark “Confidential · {name}”.' })
      .waitFor();
    assert.deepEqual(await bobShare(), { watermark: 'Confidential · {name}' });
    assert.equal(await dialog.locator(`li[data-principal="user:${ids.bob}"] .badge.secure`).count(), 1);
    assert.equal(await dialog.getByLabel('Role of Bob Viewer').inputValue(), 'viewer', 'the role is kept');
    await ann.locator('[aria-label="Secure view for Bob Viewer"]:focus').waitFor();

    // Escape closes the panel, not the dialog; nothing is saved
    await toggle.click();
    await panel.getByLabel('Watermark').fill('Not saved');
    await ann.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
    assert.ok(await dialog.isVisible(), 'the dialog stays open');
    assert.deepEqual(await bobShare(), { watermark: 'Confidential · {name}' });

    // and off again
    await toggle.click();
    await panel.getByLabel('Secure view', { exact: true }).uncheck();
    await panel.getByRole('button', { name: 'Save secure view for Bob Viewer' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Bob Viewer: secure view off' }).waitFor();
    assert.equal(await bobShare(), null);

    // the link: a password it has, no expiry; give it an expiry, remove its password, turn on secure view
    const [link] = (await storage.access?.linksOf(reportId)) ?? [];
    assert.ok(link?.passwordHash);
    const edit = dialog.getByRole('button', { name: 'Edit link 1' });
    await edit.click();
    const settings = dialog.getByRole('form', { name: 'Settings of link 1' });
    await settings.waitFor();
    const inTenDays = new Date(Date.now() + 10 * 86_400_000);
    const day = `${inTenDays.getFullYear()}-${String(inTenDays.getMonth() + 1).padStart(2, '0')}-${String(inTenDays.getDate()).padStart(2, '0')}`;
    await settings.getByLabel('Expires').fill(day);
    await settings.getByLabel('Password', { exact: true }).selectOption('remove');
    await settings.getByLabel('Secure view', { exact: true }).check();
    await ann.screenshot({ path: join(SCREENSHOTS, 'share-dialog-link-settings.png') });
    await settings.getByRole('button', { name: 'Save settings of link 1' }).click();
    await dialog
      .getByRole('status')
      .filter({
        hasText: /^Link 1: it expires at the end of .+; no password: anyone with the address opens it; secure view on/,
      })
      .waitFor();
    let saved = await storage.access?.getLink(link.id);
    assert.equal(saved?.passwordHash, null);
    assert.deepEqual(saved?.secureView, { watermark: '{name} · {date}' });
    assert.equal(new Date(saved?.expiresAt ?? 0).getDate(), inTenDays.getDate());
    await ann.locator('[aria-label="Edit link 1"]:focus').waitFor();
    const item = dialog.locator(`li[data-link="${link.id}"]`);
    assert.match((await item.locator('.link-title').textContent()) ?? '', /Active.*Until.*Secure view/);

    // a password too short: the alert says why, the panel keeps what was typed
    await edit.click();
    await settings.getByLabel('Password', { exact: true }).selectOption('change');
    await settings.getByLabel('New password').fill('abc');
    await settings.getByRole('button', { name: 'Save settings of link 1' }).click();
    await dialog.getByRole('alert').filter({ hasText: "A link's password needs at least 4 characters." }).waitFor();
    assert.ok(await settings.isVisible(), 'the panel stays open');
    await settings.getByLabel('New password').fill('new secret');
    await settings.getByLabel('Expires').fill('');
    await settings.getByRole('button', { name: 'Save settings of link 1' }).click();
    await dialog
      .getByRole('status')
      .filter({ hasText: 'Link 1: it never expires; it asks for a password (send it separately).' })
      .waitFor();
    saved = await storage.access?.getLink(link.id);
    assert.equal(saved?.expiresAt, null);
    assert.ok(saved?.passwordHash);
    assert.equal(await host.quire.sharing.linkPasswordMatches(saved as NonNullable<typeof saved>, 'new secret'), true);

    // nothing changed: said so
    await edit.click();
    await settings.getByRole('button', { name: 'Save settings of link 1' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Nothing to change.' }).waitFor();

    // a link past its expiry is shown as expired, saying how to revive it
    await storage.access?.updateLink(link.id, { expiresAt: Date.now() - 60_000 }, Date.now());
    await ann.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await ann.getByRole('button', { name: 'Share Quarterly report.docx' }).click();
    await ann.waitForSelector('#share-dialog[data-ready="true"]');
    assert.equal(await item.getAttribute('data-state'), 'expired');
    assert.match((await item.locator('.badge.state').textContent()) ?? '', /Expired/);
    assert.match((await item.textContent()) ?? '', /it no longer opens\. Edit it to give it a new expiry date/);
    await item.scrollIntoViewIfNeeded();
    await ann.screenshot({ path: join(SCREENSHOTS, 'share-dialog-links.png') });

    // on a phone, with a panel open, nothing is wider than the screen
    await ann.setViewportSize({ width: 390, height: 844 });
    await edit.click();
    await settings.waitFor();
    await settings.scrollIntoViewIfNeeded();
    assert.ok((await overflowOf(ann)) <= 0, 'nothing wider than a phone');
    const dialogOverflow = await ann.evaluate<number>(
      "(() => { const d = document.getElementById('share-dialog'); return d.scrollWidth - d.clientWidth; })()",
    );
    assert.ok(dialogOverflow <= 0, `the dialog is ${dialogOverflow}px wider than itself`);
    await ann.screenshot({ path: join(SCREENSHOTS, 'share-dialog-links-phone.png') });
    // revive it: a new expiry
    await settings.getByLabel('Expires').fill(day);
    await settings.getByRole('button', { name: 'Save settings of link 1' }).click();
    await dialog
      .getByRole('status')
      .filter({ hasText: /^Link 1: it expires at the end of/ })
      .waitFor();
    assert.equal(await item.getAttribute('data-state'), 'active');
    await ann.setViewportSize({ width: 1200, height: 900 });
    await ann.keyboard.press('Escape');
  });

  it('marks what is shared in My documents, with who on hover and for screen readers; the marker opens the dialog', async () => {
    const ann = await signedIn('ann');
    await ann.waitForSelector('body[data-ready="true"]');
    const report = row(ann, 'Quarterly report.docx');
    const marker = report.locator('button.shared-marker');
    assert.equal((await marker.textContent())?.trim(), '⇆ Shared · 2');
    assert.equal(
      await marker.getAttribute('aria-label'),
      'Shared with Bob Viewer and anyone with a link. Manage sharing of Quarterly report.docx',
    );
    assert.match((await marker.getAttribute('title')) ?? '', /Bob Viewer \(viewer\)\nAnyone with a link/);
    assert.equal(await row(ann, 'Ann’s notes.docx').locator('.shared-marker').count(), 0, 'not shared: no marker');
    await ann.screenshot({ path: join(SCREENSHOTS, 'my-documents-shared.png'), fullPage: true });
    await ann.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(ann)) <= 0, 'nothing wider than a phone');
    await ann.screenshot({ path: join(SCREENSHOTS, 'my-documents-shared-phone.png'), fullPage: true });
    await ann.setViewportSize({ width: 1200, height: 900 });

    // from the keyboard: the marker opens the share dialog, and Escape brings the focus back to the row
    await marker.focus();
    await ann.keyboard.press('Enter');
    const dialog = ann.getByRole('dialog', { name: 'Share Quarterly report.docx' });
    await dialog.waitFor();
    await ann.waitForSelector('#share-dialog[data-ready="true"]');
    // sharing with one more person shows in the marker once the dialog is closed
    await dialog.getByLabel('Person or group').selectOption(`user:${ids.cara}`);
    await dialog.getByLabel('Role', { exact: true }).selectOption('commenter');
    await dialog.getByRole('button', { name: 'Share', exact: true }).click();
    await dialog
      .getByRole('status')
      .filter({ hasText: /Shared with Cara/ })
      .waitFor();
    await ann.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await report.locator('button.shared-marker', { hasText: 'Shared · 3' }).waitFor();
    await ann.locator('#files button.shared-marker:focus').waitFor();
    // (Cara's share goes again: the next tests expect Bob alone)
    const gone = await ann.request.delete(`${host.url}/api/files/${reportId}/shares/user/${ids.cara}`);
    assert.equal(gone.status(), 204);
  });

  it('shows Bob the document under "Shared with me" as a viewer, without delete, and its access read-only', async () => {
    const bob = await signedIn('bob');
    await bob.waitForSelector('body[data-ready="true"]');
    // his own documents: none yet
    await bob.getByRole('heading', { name: 'No documents yet' }).waitFor();
    await bob.getByRole('link', { name: 'Shared with me' }).click();
    assert.equal(new URL(bob.url()).search, '?view=shared');
    const report = row(bob, 'Quarterly report.docx');
    await report.waitFor();
    assert.equal(await bob.locator('#files tbody tr').count(), 1);
    assert.equal(await report.locator('.badge.role').textContent(), 'Viewer');
    assert.match((await report.locator('.doc-meta').textContent()) ?? '', /Shared by Ann Owner/);
    assert.equal(await report.getByRole('button', { name: /^Delete/ }).count(), 0, 'a viewer cannot delete');
    assert.equal(await report.getByRole('button', { name: /^Rename/ }).count(), 0, 'nor rename');
    assert.equal(await report.getByRole('link', { name: 'Open Quarterly report.docx' }).count(), 1);
    assert.ok((await overflowOf(bob)) <= 0);
    await bob.screenshot({ path: join(SCREENSHOTS, 'shared-with-me.png'), fullPage: true });
    await bob.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(bob)) <= 0, 'nothing wider than a phone');
    await bob.screenshot({ path: join(SCREENSHOTS, 'shared-with-me-phone.png'), fullPage: true });
    await bob.setViewportSize({ width: 1200, height: 900 });

    // the reload keeps the view
    await bob.reload();
    await row(bob, 'Quarterly report.docx').waitFor();
    assert.equal(await bob.locator('.views a[aria-current="page"]').textContent(), 'Shared with me');

    // who has access: read-only
    await report.getByRole('button', { name: 'Who has access to Quarterly report.docx' }).click();
    const dialog = bob.getByRole('dialog', { name: 'Who has access to Quarterly report.docx' });
    await dialog.waitFor();
    await bob.waitForSelector('#share-dialog[data-ready="true"]');
    assert.match((await dialog.locator('#share-you').textContent()) ?? '', /You are a viewer/);
    assert.match((await dialog.locator('#share-list').textContent()) ?? '', /Ann Owner/);
    assert.equal(await dialog.locator('select.role-picker').count(), 0, 'no role pickers');
    assert.equal(await dialog.getByRole('button', { name: /^Remove/ }).count(), 0, 'no remove buttons');
    assert.equal(await dialog.getByText('Add people or groups').isVisible(), false);
    assert.equal(await dialog.locator('#share-links-section').isVisible(), false, 'links are secret');
    await bob.screenshot({ path: join(SCREENSHOTS, 'share-dialog-read-only.png') });
    await bob.keyboard.press('Escape');

    // the history page says what he may do, and offers no more
    await report.getByRole('link', { name: 'History of Quarterly report.docx' }).click();
    await bob.waitForSelector('body[data-ready="true"]');
    assert.match((await bob.locator('.role-note').textContent()) ?? '', /Viewer\s+You can view this document/);
    assert.equal(await bob.getByRole('link', { name: 'Open', exact: true }).count(), 1);
    assert.equal(await bob.getByRole('button', { name: /^Restore/ }).count(), 0, 'a viewer restores nothing');
    await bob.getByRole('button', { name: 'Who has access' }).click();
    await bob.getByRole('dialog', { name: 'Who has access to Quarterly report.docx' }).waitFor();
    await bob.keyboard.press('Escape');
  });

  it("removes Bob's share through the dialog: his open list drops it and his open history page says so, live", async () => {
    // Bob has the document open in two pages: "Shared with me", and its history
    const bobList = await signedIn('bob');
    await bobList.goto(`${host.url}/?view=shared`);
    await row(bobList, 'Quarterly report.docx').waitFor();
    await bobList.waitForSelector('body[data-live="live"]');
    const bobHistory = await signedIn('bob');
    await bobHistory.goto(`${host.url}/files/${reportId}`);
    await bobHistory.waitForSelector('body[data-ready="true"]');
    await bobHistory.waitForSelector('body[data-live="live"]');

    const ann = await signedIn('ann');
    await ann.waitForSelector('body[data-ready="true"]');
    await ann.getByRole('button', { name: 'Share Quarterly report.docx' }).click();
    const dialog = ann.getByRole('dialog', { name: 'Share Quarterly report.docx' });
    await ann.waitForSelector('#share-dialog[data-ready="true"]');
    await dialog.getByRole('button', { name: 'Remove Bob Viewer' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Bob Viewer no longer has access.' }).waitFor();
    assert.equal(await dialog.locator(`li[data-principal="user:${ids.bob}"]`).count(), 0);
    await ann.keyboard.press('Escape');

    // without a reload: the row goes, the empty state comes; the history page says he no longer has access
    await bobList.getByRole('heading', { name: 'Nothing shared with you yet' }).waitFor({ timeout: 10_000 });
    assert.equal(await row(bobList, 'Quarterly report.docx').count(), 0);
    const lost = bobHistory.getByRole('alert').filter({ hasText: 'You no longer have access to this document' });
    await lost.waitFor({ timeout: 10_000 });
    assert.equal(await bobHistory.locator('#versions').isVisible(), false, 'the versions are gone');
    assert.equal(await bobHistory.getByRole('link', { name: 'Open', exact: true }).isVisible(), false);
    assert.equal(await bobHistory.getByRole('link', { name: 'Back to Shared with me' }).count(), 1);
    await bobHistory.screenshot({ path: join(SCREENSHOTS, 'history-access-lost.png'), fullPage: true });
    await bobHistory.setViewportSize({ width: 390, height: 844 });
    assert.ok((await overflowOf(bobHistory)) <= 0, 'nothing wider than a phone');
    await bobHistory.screenshot({ path: join(SCREENSHOTS, 'history-access-lost-phone.png'), fullPage: true });

    const bob = await signedIn('bob');
    await bob.goto(`${host.url}/?view=shared`);
    await bob.waitForSelector('body[data-ready="true"]');
    await bob.getByRole('heading', { name: 'Nothing shared with you yet' }).waitFor();
    assert.equal(await row(bob, 'Quarterly report.docx').count(), 0);
    assert.equal((await bob.request.get(`${host.url}/api/files/${reportId}`)).status(), 404);
    await bob.screenshot({ path: join(SCREENSHOTS, 'shared-with-me-empty.png'), fullPage: true });
  });

  it('gives a group member the editor role: open to edit and rename, but no delete and no share', async () => {
    const ann = await signedIn('ann');
    await ann.waitForSelector('body[data-ready="true"]');
    // the group was deleted above: a new one, with Cara, as editors
    const admin = await signedIn('root');
    await admin.goto(`${host.url}/admin`);
    await admin.waitForSelector('body[data-ready="true"]');
    await admin.getByLabel('New group').fill('Writers');
    await admin.getByRole('button', { name: 'Create group' }).click();
    const group = admin.locator('li.group[data-name="Writers"]');
    await group.waitFor();
    await group.getByLabel('Add a member to Writers').selectOption(ids.cara as string);
    await group.getByRole('button', { name: 'Add to Writers' }).click();
    await group.locator(`li.member[data-user="${ids.cara}"]`).waitFor();

    await ann.getByRole('button', { name: 'Share Quarterly report.docx' }).click();
    const dialog = ann.getByRole('dialog', { name: 'Share Quarterly report.docx' });
    await ann.waitForSelector('#share-dialog[data-ready="true"]');
    await dialog.getByLabel('Person or group').selectOption({ label: 'Writers' });
    await dialog.getByLabel('Role', { exact: true }).selectOption('editor');
    await dialog.getByRole('button', { name: 'Share', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: 'Shared with Writers as an editor.' }).waitFor();
    await ann.keyboard.press('Escape');

    const cara = await signedIn('cara');
    await cara.goto(`${host.url}/?view=shared`);
    await cara.waitForSelector('body[data-ready="true"]');
    const report = row(cara, 'Quarterly report.docx');
    await report.waitFor();
    assert.equal(await report.locator('.badge.role').textContent(), 'Editor');
    assert.equal(await report.getByRole('link', { name: 'Edit Quarterly report.docx' }).count(), 1);
    assert.equal(await report.getByRole('button', { name: 'Rename Quarterly report.docx' }).count(), 1);
    assert.equal(await report.getByRole('button', { name: /^Delete/ }).count(), 0);
    assert.equal(await report.getByRole('button', { name: 'Share Quarterly report.docx' }).count(), 0);
    await cara.waitForSelector('body[data-live="live"]');

    // the group's share removed: Cara's open list drops the document, live
    const writers = (await host.quire.host.storage.access?.findGroup('writers'))?.id as string;
    const removed = await ann.request.delete(`${host.url}/api/files/${reportId}/shares/group/${writers}`);
    assert.equal(removed.status(), 204);
    await cara.getByRole('heading', { name: 'Nothing shared with you yet' }).waitFor({ timeout: 10_000 });

    // shared with her again, then taken out of the group by an admin: the same, with the list open
    const again = await ann.request.put(`${host.url}/api/files/${reportId}/shares`, {
      data: { group: writers, role: 'editor' },
    });
    assert.equal(again.status(), 200);
    await report.waitFor({ timeout: 10_000 });
    const out = await admin.request.delete(`${host.url}/api/admin/groups/${writers}/members/${ids.cara}`);
    assert.equal(out.status(), 204);
    await cara.getByRole('heading', { name: 'Nothing shared with you yet' }).waitFor({ timeout: 10_000 });

    // disabled by an admin: her open page goes to the sign-in page
    const disabled = await admin.request.patch(`${host.url}/api/admin/users/${ids.cara}`, {
      data: { disabled: true },
    });
    assert.equal(disabled.status(), 200);
    await cara.waitForURL(/\/login/, { timeout: 15_000 });
  });
});
