import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (never a downloaded browser); tests skip, saying so, where it is not installed. */
export const CHROMIUM = process.env.QUIRE_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissing: string | false = existsSync(CHROMIUM)
  ? false
  : `Debian's chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;

export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-output');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Signs in through Quire's sign-in form and waits for the document list. */
export async function signInThroughPage(page: Page, baseUrl: string, name: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel(/name/i).first().fill(name);
  await page.getByLabel(/password/i).fill(password);
  await Promise.all([page.waitForURL(`${baseUrl}/`), page.getByRole('button', { name: /sign in/i }).click()]);
}

/**
 * The pages a browser suite signs in with, closed together in its `after`. `browser` and `baseUrl` are read when a
 * page is made (suites create both in `before`).
 */
export class SignedInPages {
  private readonly open: Page[] = [];

  constructor(
    private readonly browser: () => Browser,
    private readonly baseUrl: () => string,
    private readonly password: string,
  ) {}

  /** A new page signed in as `name`, on the document list. */
  async as(name: string, viewport = { width: 1200, height: 900 }): Promise<Page> {
    const page = await this.browser().newPage({ viewport });
    this.open.push(page);
    await signInThroughPage(page, this.baseUrl(), name, this.password);
    return page;
  }

  async closeAll(): Promise<void> {
    for (const page of this.open.splice(0)) await page.close().catch(() => {});
  }
}
