import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumMissing, launchChromium, SCREENSHOTS, signInThroughPage } from './helpers/browser.ts';
import { startHost, type TestHost } from './helpers/host.ts';

/**
 * The API keys page (/admin/api-keys) in a real browser: reached from the admin navigation, an empty state, making a
 * key (shown once, copied to the clipboard), the list, revoking with a confirmation; on a phone without sideways
 * scrolling; closed to people who are not admins.
 */

const PASSWORD = 'correct horse 1';

describe('the API keys page, in a real browser', { skip: chromiumMissing }, () => {
  let host: TestHost;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    host = await startHost({ clock: { now: () => Date.now() } });
    const users = host.quire.accounts;
    assert.ok(users);
    await users.create({ name: 'root', displayName: 'Rita Admin', password: PASSWORD, isAdmin: true });
    await users.create({ name: 'bob', displayName: 'Bob Builder', password: PASSWORD });
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await host?.close();
  });

  const signedIn = async (name: string, viewport = { width: 1200, height: 900 }): Promise<Page> => {
    const context = await browser.newContext({ viewport, permissions: ['clipboard-read', 'clipboard-write'] });
    contexts.push(context);
    const page = await context.newPage();
    await signInThroughPage(page, host.url, name, PASSWORD);
    return page;
  };
  const overflowOf = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  const callWith = (key: string) =>
    fetch(`${host.url}/api/me`, { headers: { Authorization: `Bearer ${key}`, Accept: 'application/json' } });

  it('lets an admin make a key, see it once, copy it, and revoke it', async () => {
    const admin = await signedIn('root');
    await admin.getByRole('navigation', { name: 'Quire' }).getByRole('link', { name: 'People & groups' }).click();
    await admin.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'API keys' }).click();
    await admin.waitForSelector('body[data-ready="true"]');
    assert.equal(new URL(admin.url()).pathname, '/admin/api-keys');
    await admin.getByRole('heading', { name: 'No API keys yet' }).waitFor();
    await admin.screenshot({ path: join(SCREENSHOTS, 'api-keys-empty.png'), fullPage: true });

    // the form says what is missing instead of sending it
    await admin.getByText('Create a key').click();
    await admin.getByRole('button', { name: 'Create key' }).click();
    await admin.getByRole('alert').filter({ hasText: 'Give the key a name' }).waitFor();
    assert.equal(await admin.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true');

    await admin.getByLabel('Name', { exact: true }).fill('Case <b>system</b>');
    await admin.getByLabel('tokens').check();
    await admin.getByRole('button', { name: 'Create key' }).click();
    const reveal = admin.getByRole('region', { name: 'Copy the new key now' });
    await reveal.waitFor();
    assert.equal(
      await admin.evaluate<string | undefined>('document.activeElement?.id'),
      'key-reveal',
      'focus moves to the key',
    );
    const key = await admin.getByLabel('The new API key').inputValue();
    assert.match(key, /^quire_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal((await callWith(key)).status, 200, 'the key shown works');
    await admin.screenshot({ path: join(SCREENSHOTS, 'api-keys-created.png'), fullPage: true });

    await admin.getByRole('button', { name: 'Copy', exact: true }).click();
    await admin.getByRole('status').filter({ hasText: 'copied to the clipboard' }).waitFor();
    assert.equal(await admin.evaluate<string>('navigator.clipboard.readText()'), key);

    const item = admin.locator('#key-list li.api-key');
    assert.equal(await item.count(), 1);
    assert.equal(await admin.locator('#key-list b').count(), 0, 'names are text, never markup');
    assert.match((await item.textContent()) ?? '', /Case <b>system<\/b>.*Active.*files:read.*tokens/);
    assert.ok(!((await item.textContent()) ?? '').includes(key.slice(-43)), 'the list never shows the secret');

    await admin.getByRole('button', { name: 'Done, I have stored it' }).click();
    assert.equal(await admin.locator('#key-value').inputValue(), '', 'the key is gone from the page');
    assert.equal(await reveal.isHidden(), true);
    await admin.getByRole('status').filter({ hasText: 'no longer shown' }).waitFor();
    await admin.reload();
    await admin.waitForSelector('body[data-ready="true"]');
    assert.equal(await admin.content().then((html) => html.includes(key)), false, 'a reload does not show it again');

    // revoking asks first; cancelling changes nothing
    const revoke = admin.getByRole('button', { name: 'Revoke the key Case <b>system</b>' });
    await revoke.click();
    const confirm = admin.getByRole('dialog', { name: 'Revoke the key Case <b>system</b>?' });
    await confirm.waitFor();
    await admin.keyboard.press('Escape');
    assert.equal((await callWith(key)).status, 200);
    await revoke.click();
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await admin.getByRole('status').filter({ hasText: 'Revoked the key' }).waitFor();
    await admin.locator('#key-list li.api-key .badge', { hasText: 'Revoked' }).waitFor();
    assert.equal(await admin.getByRole('button', { name: /^Revoke the key/ }).count(), 0);
    assert.equal((await callWith(key)).status, 401, 'a revoked key works no more');
    await admin.screenshot({ path: join(SCREENSHOTS, 'api-keys-revoked.png'), fullPage: true });
  });

  it('works from the keyboard and fits a phone', async () => {
    const phone = await signedIn('root', { width: 390, height: 844 });
    await phone.goto(`${host.url}/admin/api-keys`);
    await phone.waitForSelector('body[data-ready="true"]');
    // open the form and make a key with keys alone
    await phone.locator('#key-new-title').focus();
    await phone.keyboard.press('Enter');
    await phone.getByLabel('Name', { exact: true }).focus();
    await phone.keyboard.type('Phone app');
    await phone.getByLabel('webhooks').focus();
    await phone.keyboard.press('Space');
    await phone.getByRole('button', { name: 'Create key' }).focus();
    await phone.keyboard.press('Enter');
    await phone.getByRole('region', { name: 'Copy the new key now' }).waitFor();
    assert.equal(await overflowOf(phone), 0, 'no sideways scrolling with the key shown');
    await phone.screenshot({ path: join(SCREENSHOTS, 'api-keys-phone.png'), fullPage: true });
    await phone.getByRole('button', { name: 'Done, I have stored it' }).click();
    const scopes = await phone.locator('#key-list li', { hasText: 'Phone app' }).locator('.scope').allTextContents();
    assert.deepEqual(scopes, ['files:read', 'webhooks']);
    assert.equal(await overflowOf(phone), 0);
  });

  it('is for admins only', async () => {
    const bob = await signedIn('bob');
    const res = await bob.goto(`${host.url}/admin/api-keys`);
    assert.equal(res?.status(), 403);
    assert.equal(
      await bob
        .getByRole('navigation', { name: 'Quire' })
        .getByRole('link', { name: /People/ })
        .count(),
      0,
    );
  });
});
