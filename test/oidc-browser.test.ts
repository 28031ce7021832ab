import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, launchChromium, SCREENSHOTS } from './helpers/browser.ts';
import { startHost, type TestHost } from './helpers/host.ts';
import { startTestProvider, type TestProvider } from './helpers/oidc-provider.ts';

describe('single sign-on in a real browser', { skip: chromiumMissing }, () => {
  let provider: TestProvider;
  let host: TestHost;
  let browser: Browser;
  let page: Page;

  before(async () => {
    provider = await startTestProvider();
    host = await startHost({
      clock: { now: () => Date.now() },
      oidc: {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        displayName: 'Example ID',
      },
    });
    provider.start(`${host.url}/login/oidc/callback`);
    // an admin exists already: the sign-in page as people usually see it
    await host.quire.accounts?.create({ name: 'admin', password: 'correct horse 1', isAdmin: true });
    provider.accounts.set('erin', { preferred_username: 'erin', name: 'Erin Example', groups: ['Editors'] });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await host?.close();
    await provider?.close();
  });

  it('signs in with the button: the provider signs the person in and Quire shows their documents', async () => {
    await page.goto(`${host.url}/`);
    await page.waitForURL(`${host.url}/login`);
    const button = page.getByRole('link', { name: 'Sign in with Example ID' });
    await button.waitFor();
    assert.ok(await page.getByLabel('Password').isVisible(), 'the password form stays');
    await page.screenshot({ path: join(SCREENSHOTS, 'login-sso.png'), fullPage: true });

    await button.click();
    // the provider's own sign-in page, then its consent page
    await page.waitForURL(`${provider.issuer}/interaction/**`);
    await page.locator('input[name="login"]').fill('erin');
    await page.locator('input[name="password"]').fill('anything');
    await page.locator('button[type="submit"]').click();
    await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached' });
    await Promise.all([page.waitForURL(`${host.url}/`), page.locator('button[type="submit"]').click()]);
    await page.waitForSelector('body[data-ready="true"]');
    assert.match((await page.locator('body').textContent()) ?? '', /Erin Example/);

    const me = await page.request.get(`${host.url}/api/me`, { headers: { accept: 'application/json' } });
    assert.equal(((await me.json()) as { name: string }).name, 'erin');
    const user = await host.quire.accounts?.findByName('erin');
    assert.ok(user);
    const groups = await host.quire.host.storage.access?.groupsOf(user.id);
    assert.deepEqual(
      groups?.map((g) => [g.name, g.source]),
      [['Editors', 'provider']],
    );

    // the group from the claim is a group like any other: a document shared with it is under "Shared with me"
    const admin = await host.quire.accounts?.findByName('admin');
    assert.ok(admin);
    const id = await host.addFile('Style guide.docx', 'v1', admin.id);
    const file = await host.quire.host.storage.catalog.getFile(id);
    assert.ok(file && groups?.[0]);
    await host.quire.sharing.share(
      file,
      { principal: { kind: 'group', id: groups[0].id }, role: 'editor', secureView: null },
      { userId: admin.id, userName: admin.name },
    );
    await page.getByRole('link', { name: 'Shared with me' }).click();
    const row = page.locator('#files tbody tr[data-name="Style guide.docx"]');
    await row.waitFor();
    assert.equal(await row.locator('.badge.role').textContent(), 'Editor');
  });

  it('says on a page of its own when the provider refused, with the ways back', async () => {
    const fresh = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    try {
      const res = await fresh.goto(
        `${host.url}/login/oidc/callback?error=access_denied&error_description=User%20cancelled`,
      );
      assert.equal(res?.status(), 403);
      await fresh.getByRole('heading', { name: 'Sign-in cancelled' }).waitFor();
      assert.ok(await fresh.getByRole('link', { name: 'Try again' }).isVisible());
      assert.ok(await fresh.getByRole('link', { name: 'Back to sign-in' }).isVisible());
      await fresh.screenshot({ path: join(SCREENSHOTS, 'login-sso-refused.png'), fullPage: true });
    } finally {
      await fresh.close();
    }
  });
});
