import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { chromiumMissing, launchChromium, SCREENSHOTS, SignedInPages } from './helpers/browser.ts';
import { startHost, type TestHost } from './helpers/host.ts';
import { type StandInEditor, startStandInEditor } from './helpers/stand-in-editor.ts';

/**
 * The Teams story end to end, in Debian's Chromium with a stand-in editor that stays open like a person editing:
 * Ann shares a document with Bob as a viewer and with a group as editors through the share dialog; Bob finds it
 * under "Shared with me" and his editor gets a read-only CheckFileInfo; a group member edits; a link guest gives a
 * name and edits, keeping one identity; Ann removes Bob's share while his editor is open and its next save gets 401
 * and changes nothing.
 */

const PASSWORD = 'correct horse 1';

interface EditorInfo {
  UserId: string;
  ReadOnly: boolean;
  UserCanWrite: boolean;
  UserCanRename: boolean;
  UserCanNotWriteRelative: boolean;
  IsAnonymousUser?: boolean;
  UserFriendlyName: string;
}

/** The stand-in editor's log, once it is ready (or failed). */
async function editorLog(page: Page): Promise<{ frame: FrameLocator; steps: string[]; info: EditorInfo }> {
  const frame = page.frameLocator('#editor_frame');
  await frame.getByText(/^(ready|error .*)$/).waitFor({ timeout: 20_000 });
  const steps = await frame.locator('#log li').allTextContents();
  const line = steps.find((s) => s.startsWith('info '));
  assert.ok(line, steps.join('\n'));
  return { frame, steps, info: JSON.parse(line.slice('info '.length)) as EditorInfo };
}

/** Clicks the editor's Save and answers the line it logs for that save. */
async function save(frame: FrameLocator, n: number): Promise<string> {
  await frame.getByRole('button', { name: 'Save' }).click();
  const line = frame.locator('#log li', { hasText: new RegExp(`^Save ${n}: `) });
  await line.waitFor({ timeout: 10_000 });
  return (await line.textContent()) ?? '';
}

describe('the Teams story, in a real browser with an editor that stays open', { skip: chromiumMissing }, () => {
  let host: TestHost;
  let editor: StandInEditor;
  let browser: Browser;
  const ids: Record<string, string> = {};
  let fileId = '';
  let linkUrl = '';
  const pages = new SignedInPages(
    () => browser,
    () => host.url,
    PASSWORD,
  );

  before(async () => {
    editor = await startStandInEditor({ stayOpen: true });
    host = await startHost({ clock: { now: () => Date.now() }, editor: { url: editor.url } });
    const users = host.quire.accounts;
    assert.ok(users);
    for (const [name, displayName] of [
      ['ann', 'Ann Owner'],
      ['bob', 'Bob Reader'],
      ['cara', 'Cara Writer'],
    ] as const) {
      ids[name] = (await users.create({ name, displayName, password: PASSWORD })).id;
    }
    // the group exists (an admin made it); Ann shares with it below
    const admin = { userId: 'admin', userName: 'admin' };
    const writers = await host.quire.sharing.createGroup('Writers', admin);
    const cara = await users.findByName('cara');
    assert.ok(cara);
    await host.quire.sharing.addMember(writers.id, cara, admin);
    fileId = await host.addFile('Plan.docx', 'draft', ids.ann);
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await pages.closeAll();
    await browser?.close();
    await host?.close();
    await editor?.close();
  });

  const versionOf = async () => (await host.quire.host.storage.catalog.getFile(fileId))?.version;
  const contentOf = async () => (await (await host.client(fileId)).content()).toString();

  it('Ann shares with Bob as a viewer and with the Writers group as editors, through the dialog', async () => {
    const ann = await pages.as('ann');
    await ann.waitForSelector('body[data-ready="true"]');
    await ann.getByRole('button', { name: 'Share Plan.docx' }).click();
    const dialog = ann.getByRole('dialog', { name: 'Share Plan.docx' });
    await ann.waitForSelector('#share-dialog[data-ready="true"]');
    await dialog.getByLabel('Person or group').selectOption(`user:${ids.bob}`);
    await dialog.getByLabel('Role', { exact: true }).selectOption('viewer');
    await dialog.getByRole('button', { name: 'Share', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: 'Shared with Bob Reader (bob) as a viewer.' }).waitFor();
    await dialog.getByLabel('Person or group').selectOption({ label: 'Writers' });
    await dialog.getByLabel('Role', { exact: true }).selectOption('editor');
    await dialog.getByRole('button', { name: 'Share', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: 'Shared with Writers as an editor.' }).waitFor();
    // and a link anyone may edit with
    await dialog.getByText('Create a link').click();
    await dialog.getByLabel('Link role').selectOption('editor');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    await dialog
      .getByRole('status')
      .filter({ hasText: /^Link created/ })
      .waitFor();
    linkUrl = await dialog.getByLabel('Address of link 1').inputValue();
    await ann.screenshot({ path: join(SCREENSHOTS, 'story-share-dialog.png') });
    await ann.keyboard.press('Escape');
  });

  it("Bob finds it under Shared with me; his editor gets a read-only CheckFileInfo and can't save", async () => {
    const bob = await pages.as('bob');
    await bob.getByRole('link', { name: 'Shared with me' }).click();
    const row = bob.locator('#files tbody tr[data-name="Plan.docx"]');
    await row.waitFor();
    assert.equal(await row.locator('.badge.role').textContent(), 'Viewer');
    await bob.screenshot({ path: join(SCREENSHOTS, 'story-shared-with-me.png'), fullPage: true });
    assert.equal(await row.getByRole('link', { name: 'Edit Plan.docx' }).count(), 0, 'a viewer has no Edit');
    await row.getByRole('link', { name: 'Open Plan.docx' }).click();
    const { frame, steps, info } = await editorLog(bob);
    assert.equal(info.UserCanWrite, false);
    assert.equal(info.ReadOnly, true);
    assert.equal(info.UserCanRename, false);
    assert.equal(info.UserCanNotWriteRelative, true);
    assert.equal(info.UserFriendlyName, 'Bob Reader');
    assert.ok(steps.includes('GetFile "draft"'), steps.join('\n'));
    assert.ok(!steps.some((s) => s.startsWith('Lock')), 'a read-only editor takes no lock');
    // were it to try anyway, the host refuses and nothing changes
    assert.match(await save(frame, 1), /^Save 1: PutFile 401 /);
    assert.equal(await versionOf(), 1);
  });

  it('Cara, a member of Writers, edits it; her saves are new versions', async () => {
    const cara = await pages.as('cara');
    await cara.goto(`${host.url}/?view=shared`);
    const row = cara.locator('#files tbody tr[data-name="Plan.docx"]');
    await row.waitFor();
    assert.equal(await row.locator('.badge.role').textContent(), 'Editor');
    await row.getByRole('link', { name: 'Edit Plan.docx' }).click();
    const { frame, steps, info } = await editorLog(cara);
    assert.equal(info.UserCanWrite, true);
    assert.equal(info.ReadOnly, false);
    assert.ok(steps.includes('Lock 200'), steps.join('\n'));
    assert.match(await save(frame, 1), /^Save 1: PutFile 200 version 2$/);
    assert.equal(await contentOf(), 'draft +1');
    // Cara closes the tab: the stand-in never unlocks, as an editor whose tab closed would not; Ann breaks it below
    await cara.close();
  });

  it('a link guest gives a name, edits, and keeps one identity for that link and name', async () => {
    // the lock Cara's editor left is taken away by the owner, as the editing sessions page would
    const ann = await pages.as('ann');
    const res = await ann.request.post(`${host.url}/api/files/${fileId}/lock/break`, {
      data: { reason: 'Cara closed her tab' },
      headers: { origin: host.url },
    });
    assert.equal(res.status(), 200, await res.text());

    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    try {
      const guest = await context.newPage();
      await guest.goto(linkUrl);
      await guest.getByLabel('Your name').fill('Dora');
      await Promise.all([
        guest.waitForURL(`${linkUrl}/open`),
        guest.getByRole('button', { name: 'Open document' }).click(),
      ]);
      const first = await editorLog(guest);
      assert.equal(first.info.UserFriendlyName, 'Dora');
      assert.equal(first.info.UserCanWrite, true);
      assert.notEqual(first.info.IsAnonymousUser, true);
      assert.ok(first.steps.includes('Lock 200'), first.steps.join('\n'));
      assert.match(await save(first.frame, 1), /^Save 1: PutFile 200 version 3$/);
      const [latest] = await host.quire.host.storage.catalog.listVersions(fileId);
      assert.equal(latest?.authorId, first.info.UserId, 'the guest is the author');
      await guest.screenshot({ path: join(SCREENSHOTS, 'story-guest-editing.png') });

      // the same guest comes back later: the same UserId, so editors show one author
      const again = await context.newPage();
      await again.goto(linkUrl);
      if (await again.getByLabel('Your name').count()) {
        await again.getByLabel('Your name').fill('Dora');
        await again.getByRole('button', { name: 'Open document' }).click();
      }
      await again.waitForURL(`${linkUrl}/open`);
      const second = await editorLog(again);
      assert.equal(second.info.UserId, first.info.UserId);
      await guest.close();
      await again.close();
    } finally {
      await context.close();
    }
    // the guest's editor left its lock: the owner breaks it for Bob's turn
    const res2 = await ann.request.post(`${host.url}/api/files/${fileId}/lock/break`, {
      data: { reason: 'the guest is done' },
      headers: { origin: host.url },
    });
    assert.equal(res2.status(), 200, await res2.text());
  });

  it("Ann removes Bob's share while his editor is open: its next save gets 401 and changes nothing", async () => {
    // Ann makes Bob an editor, and he opens it to edit
    const ann = await pages.as('ann');
    await ann.getByRole('button', { name: 'Share Plan.docx' }).click();
    const dialog = ann.getByRole('dialog', { name: 'Share Plan.docx' });
    await ann.waitForSelector('#share-dialog[data-ready="true"]');
    await dialog.getByLabel('Role of Bob Reader').selectOption('editor');
    await dialog
      .getByRole('status')
      .filter({ hasText: /Bob Reader.*editor/ })
      .waitFor();

    const bob = await pages.as('bob');
    await bob.goto(`${host.url}/files/${fileId}/open?action=edit`);
    const { frame, steps, info } = await editorLog(bob);
    assert.equal(info.UserCanWrite, true, steps.join('\n'));
    assert.ok(steps.includes('Lock 200'), steps.join('\n'));
    assert.match(await save(frame, 1), /^Save 1: PutFile 200 version 4$/);
    const before = await contentOf();

    // while his editor is open, Ann removes the share
    await dialog.getByRole('button', { name: 'Remove Bob Reader' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Bob Reader no longer has access.' }).waitFor();
    // within a second every request with his token is refused
    await new Promise((r) => setTimeout(r, 1100));
    assert.match(await save(frame, 2), /^Save 2: PutFile 401 /);
    assert.equal(await versionOf(), 4, 'no new version');
    assert.equal(await contentOf(), before, 'the content is unchanged');
    await bob.screenshot({ path: join(SCREENSHOTS, 'story-revoked-editor.png') });
  });
});
