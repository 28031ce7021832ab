import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumMissing, launchChromium, SCREENSHOTS, signInThroughPage } from './helpers/browser.ts';
import { startHost, type TestHost } from './helpers/host.ts';
import { waitFor } from './helpers/process-helpers.ts';
import { WebhookReceiver } from './helpers/webhook-receiver.ts';

/**
 * The webhooks page (/admin/webhooks) in a real browser, against a real receiver: reached from the admin
 * navigation, an empty state, adding a webhook (its secret shown once, copied), a ping in the delivery log, a refused
 * delivery and its redelivery, deleting with a confirmation; on a phone without sideways scrolling; closed to people
 * who are not admins.
 */

const PASSWORD = 'correct horse 1';

describe('the webhooks page, in a real browser', { skip: chromiumMissing }, () => {
  let host: TestHost;
  let browser: Browser;
  let receiver: WebhookReceiver;
  const contexts: BrowserContext[] = [];

  before(async () => {
    host = await startHost({ clock: { now: () => Date.now() }, webhooks: { pollMs: 100 } });
    const users = host.quire.accounts;
    assert.ok(users);
    await users.create({ name: 'root', displayName: 'Rita Admin', password: PASSWORD, isAdmin: true });
    await users.create({ name: 'bob', displayName: 'Bob Builder', password: PASSWORD });
    receiver = await WebhookReceiver.start();
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await host?.close();
    await receiver?.close();
  });

  const signedIn = async (name: string, viewport = { width: 1200, height: 900 }): Promise<Page> => {
    const context = await browser.newContext({ viewport, permissions: ['clipboard-read', 'clipboard-write'] });
    contexts.push(context);
    const page = await context.newPage();
    await signInThroughPage(page, host.url, name, PASSWORD);
    return page;
  };
  const overflowOf = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');

  it('lets an admin add a webhook, see its secret once, ping it, redeliver, and delete it', async () => {
    const admin = await signedIn('root');
    await admin.getByRole('navigation', { name: 'Quire' }).getByRole('link', { name: 'People & groups' }).click();
    await admin.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Webhooks' }).click();
    await admin.waitForSelector('body[data-ready="true"]');
    assert.equal(new URL(admin.url()).pathname, '/admin/webhooks');
    await admin.getByRole('heading', { name: 'No webhooks yet' }).waitFor();
    await admin.screenshot({ path: join(SCREENSHOTS, 'webhooks-empty.png'), fullPage: true });

    // the form says what is wrong instead of sending it
    await admin.getByText('Add a webhook').click();
    await admin.getByLabel('URL').fill('ftp://example.com/x');
    await admin.getByRole('button', { name: 'Add webhook' }).click();
    await admin.getByRole('alert').filter({ hasText: 'http or https URL' }).waitFor();
    assert.equal(await admin.getByLabel('URL').getAttribute('aria-invalid'), 'true');

    await admin.getByLabel('URL').fill(receiver.url);
    await admin.getByLabel('Description').fill('Case <b>system</b>');
    await admin.getByLabel('version.created').check();
    await admin.getByLabel('lock.acquired').check();
    await admin.getByRole('button', { name: 'Add webhook' }).click();
    await admin.getByRole('region', { name: 'Copy the signing secret now' }).waitFor();
    assert.equal(await admin.evaluate<string | undefined>('document.activeElement?.id'), 'hook-reveal');
    const secret = await admin.getByLabel("The webhook's signing secret").inputValue();
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{32}$/);
    await admin.getByRole('button', { name: 'Copy', exact: true }).click();
    await admin.getByRole('status').filter({ hasText: 'copied to the clipboard' }).waitFor();
    assert.equal(await admin.evaluate<string>('navigator.clipboard.readText()'), secret);
    await admin.screenshot({ path: join(SCREENSHOTS, 'webhooks-created.png'), fullPage: true });
    await admin.getByRole('button', { name: 'Done, I have stored it' }).click();
    assert.equal(await admin.getByLabel("The webhook's signing secret").isVisible(), false, 'shown no more');

    const item = admin.locator('li.webhook');
    assert.equal(await item.count(), 1);
    assert.equal(await item.locator('.hook-url').textContent(), receiver.url);
    assert.equal(await item.getByText('Case <b>system</b>').count(), 1, 'the description is text, not HTML');
    assert.deepEqual(await item.locator('.scope').allTextContents(), ['version.created', 'lock.acquired']);

    // a ping shows in the delivery log, delivered
    await admin.getByRole('button', { name: `Send a test ping to ${receiver.url}` }).click();
    await admin.getByRole('status').filter({ hasText: 'Sent a ping' }).waitFor();
    const rows = admin.locator('table.delivery-log tbody tr');
    await rows
      .filter({ has: admin.locator('.badge', { hasText: 'Delivered' }) })
      .first()
      .waitFor({ timeout: 10_000 });
    assert.equal(receiver.delivered.length, 1);
    assert.equal(receiver.delivered[0]?.body.type, 'webhook.ping');

    // the receiver refuses the next one: failed, not retried; redelivered once it accepts again
    receiver.answerWith(410);
    await admin.getByRole('button', { name: `Send a test ping to ${receiver.url}` }).click();
    const failed = rows.filter({ has: admin.locator('.badge', { hasText: 'Failed' }) });
    await failed.first().waitFor({ timeout: 10_000 });
    assert.match((await failed.first().locator('.answer').textContent()) ?? '', /HTTP 410: the receiver refused it/);
    await admin.getByRole('button', { name: 'Deliveries', exact: false }).first().focus();
    await admin.screenshot({ path: join(SCREENSHOTS, 'webhooks-deliveries.png'), fullPage: true });
    await failed
      .first()
      .getByRole('button', { name: /Redeliver/ })
      .click();
    await admin.getByRole('status').filter({ hasText: 'Queued the webhook.ping delivery again' }).waitFor();
    await waitFor(
      async () => {
        const badges = await admin.locator('table.delivery-log .badge').allTextContents();
        return badges.length > 0 && badges.every((b) => b === 'Delivered');
      },
      15_000,
      'the redelivery delivered',
    );
    assert.equal(receiver.delivered.length, 2);

    // the delivery log hides and shows from the keyboard
    const toggle = admin.getByRole('button', { name: 'Hide deliveries' });
    await toggle.focus();
    await admin.keyboard.press('Enter');
    await admin.getByRole('button', { name: 'Deliveries', exact: true }).waitFor();
    assert.equal(await admin.locator('table.delivery-log').count(), 0);

    // deleting asks first
    await admin.getByRole('button', { name: `Delete the webhook to ${receiver.url}` }).click();
    const dialog = admin.getByRole('dialog', { name: /Delete the webhook to 127\.0\.0\.1/ });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await item.count(), 1, 'cancelled: still there');
    await admin.getByRole('button', { name: `Delete the webhook to ${receiver.url}` }).click();
    await dialog.getByRole('button', { name: 'Delete webhook' }).click();
    await admin.getByRole('status').filter({ hasText: 'Deleted the webhook' }).waitFor();
    await admin.getByRole('heading', { name: 'No webhooks yet' }).waitFor();
    assert.deepEqual(await (await fetch(`${host.url}/healthz`)).status, 200);
  });

  it('fits a phone: no sideways scrolling, the log as cards', async () => {
    const phone = await signedIn('root', { width: 390, height: 844 });
    await phone.goto(`${host.url}/admin/webhooks`);
    await phone.waitForSelector('body[data-ready="true"]');
    assert.equal(await overflowOf(phone), 0, 'no sideways scroll (empty)');
    await phone.getByText('Add a webhook').click();
    await phone.getByLabel('URL').fill(`${receiver.url}/with/a/rather/long/path/for/the/phone/screen?x=1`);
    await phone.getByRole('button', { name: 'Add webhook' }).click();
    await phone.getByRole('button', { name: 'Done, I have stored it' }).click();
    await phone.getByRole('button', { name: /Send a test ping/ }).click();
    await phone.locator('table.delivery-log .badge', { hasText: 'Delivered' }).first().waitFor({ timeout: 10_000 });
    assert.equal(await overflowOf(phone), 0, 'no sideways scroll (with the log open)');
    await phone.screenshot({ path: join(SCREENSHOTS, 'webhooks-phone.png'), fullPage: true });
  });

  it('is closed to people who are not admins', async () => {
    const bob = await signedIn('bob');
    const res = await bob.goto(`${host.url}/admin/webhooks`);
    assert.equal(res?.status(), 403);
    await bob.getByRole('heading', { name: 'Admins only' }).waitFor();
  });
});
