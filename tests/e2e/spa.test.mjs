import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { seriousAccessibilityViolations } from './support/axe.mjs';
import { launchChromium, watchForProblems } from './support/browser.mjs';
import { outputFolder } from './support/paths.mjs';
import { assertPrerequisites } from './support/prerequisites.mjs';
import { startProduct } from './support/product.mjs';
import { signInAsDemoAdmin, signInWithTotp } from './support/session.mjs';

const sections = [
  { path: 'dashboard', heading: 'Dashboard' },
  { path: 'imports', heading: 'Imports' },
  { path: 'invoices', heading: 'Invoices' },
  { path: 'exceptions', heading: 'Exceptions' },
  { path: 'vendors', heading: 'Vendors' },
  { path: 'reports', heading: 'Reports' },
  { path: 'settings', heading: 'Settings' },
  { path: 'audit', heading: 'Audit log' },
];

assertPrerequisites();

describe('the web app served by invisible up', () => {
  let product;
  let browser;
  let page;
  let problems;
  let credentials;

  before(async () => {
    await mkdir(outputFolder, { recursive: true });
    product = await startProduct({ logFile: join(outputFolder, 'server.log') });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    problems = await watchForProblems(page);
    // Every section is behind sign-in; the demo administrator sees them all.
    credentials = await signInAsDemoAdmin(page, product);
  });

  after(async () => {
    await browser?.close();
    await product?.stop();
  });

  test('loads under the server’s Content Security Policy without errors', async () => {
    const response = await page.goto(product.httpUrl);

    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    assert.deepEqual(problems, []);
  });

  test('shows the shell: product name, navigation and the server as Ready', async () => {
    const banner = page.getByRole('banner');
    await banner.getByText('Invisible', { exact: true }).waitFor();
    await banner.getByText('Ready', { exact: true }).waitFor({ timeout: 20_000 });

    const links = page.getByRole('navigation', { name: 'Main' }).getByRole('link');
    assert.deepEqual(
      await links.allTextContents().then((texts) => texts.map((text) => text.trim())),
      sections.map((section) => section.heading),
    );
    assert.equal(await page.getByRole('main').count(), 1);
  });

  test('opens every section from the keyboard', async () => {
    // Start outside every section, so that each Enter below is a real navigation.
    await page.goto(`${product.httpUrl}/no-such-page`);
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();

    for (const section of sections) {
      await tabTo(page, section.heading);
      await page.keyboard.press('Enter');

      // A section may open on a sub-page (Settings opens on Your account).
      await page.waitForURL(new RegExp(`/${section.path}(/|$)`));
      await page.getByRole('heading', { level: 1, name: section.heading }).waitFor();
      assert.equal(await page.title(), `${section.heading} · Invisible`);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'main', 'focus moves to the page');
    }
  });

  test('reaches the page from the skip link', async () => {
    await page.goto(`${product.httpUrl}/invoices`);
    await page.getByRole('heading', { level: 1, name: 'Invoices' }).waitFor();

    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to main content');
    await page.keyboard.press('Enter');

    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    assert.match(page.url(), /\/invoices$/);
  });

  test('every screen passes an axe-core scan with no serious or critical violations', async () => {
    const screens = [...sections, { path: 'no-such-page', heading: 'Page not found' }];
    const violations = [];
    for (const screen of screens) {
      await page.goto(`${product.httpUrl}/${screen.path}`);
      await page.getByRole('heading', { level: 1, name: screen.heading }).waitFor();
      await page.getByRole('banner').getByText('Ready', { exact: true }).waitFor();

      await page.screenshot({ path: join(outputFolder, `${screen.path}.png`), fullPage: true });
      violations.push(...(await seriousAccessibilityViolations(page)).map((line) => `/${screen.path}: ${line}`));
    }

    assert.deepEqual(violations, []);
  });

  test('the system status opens to show what the server reported', async () => {
    await page.goto(`${product.httpUrl}/dashboard`);
    const status = page.getByRole('banner').getByText('Ready', { exact: true });
    await status.click();

    await page.getByText(/Last checked at/).waitFor();
    const checks = await page
      .getByRole('banner')
      .locator('dl > div')
      .evaluateAll((rows) => rows.map((row) => [row.querySelector('dt').textContent, row.querySelector('dd').textContent]));
    assert.deepEqual(checks, [['database', 'ready']]);
    await page.screenshot({ path: join(outputFolder, 'system-status.png') });
    assert.deepEqual(await seriousAccessibilityViolations(page), []);
  });

  test('fits a phone-sized screen without sideways scrolling of the page', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      const phonePage = await phone.newPage();
      const phoneProblems = await watchForProblems(phonePage);
      await signInWithTotp(phonePage, product, credentials);
      await phonePage.goto(`${product.httpUrl}/exceptions`);
      await phonePage.getByRole('heading', { level: 1, name: 'Exceptions' }).waitFor();
      await phonePage.getByRole('banner').getByText('Ready', { exact: true }).waitFor();

      await phonePage.screenshot({ path: join(outputFolder, 'exceptions-phone.png'), fullPage: true });
      assert.equal(
        await phonePage.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
        true,
      );
      assert.deepEqual(await seriousAccessibilityViolations(phonePage), []);
      assert.deepEqual(phoneProblems, []);
    } finally {
      await phone.close();
    }
  });

  test('a signed-in deep link has the navigation beside the page from its first frame, and nothing shifts', async () => {
    // Runs in every later document of this tab: records what the first render put on screen, and every layout shift.
    await page.addInitScript(() => {
      const layout = { firstFrame: undefined, shift: 0 };
      window.__layout = layout;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          if (!entry.hadRecentInput) layout.shift += entry.value;
        }
      }).observe({ type: 'layout-shift', buffered: true });
      // Mutation callbacks run before the browser paints what the mutating task rendered: the first time the page
      // area exists is what the first frame shows.
      const watch = new MutationObserver(() => {
        const main = document.querySelector('main#main');
        if (main === null) return;
        watch.disconnect();
        layout.firstFrame = {
          navigation: document.querySelector('nav[aria-label="Main"]') !== null,
          mainLeft: main.getBoundingClientRect().left,
        };
      });
      watch.observe(document, { childList: true, subtree: true });
    });
    const deepLink = '/invoices?sort=total&desc=1';

    await page.goto(`${product.httpUrl}${deepLink}`);
    await page.getByRole('heading', { level: 1, name: 'Invoices' }).waitFor();
    await page.locator('[data-testid="invoice-table"], app-empty-state').first().waitFor();
    await page.getByRole('banner').getByText('Ready', { exact: true }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).waitFor();

    const layout = await page.evaluate(() => ({
      ...window.__layout,
      mainLeft: document.querySelector('main#main').getBoundingClientRect().left,
    }));
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, deepLink);
    assert.equal(layout.firstFrame?.navigation, true, 'the navigation is there in the first frame');
    assert.equal(layout.firstFrame.mainLeft, layout.mainLeft, 'the page does not move sideways');
    assert.ok(layout.shift < 0.1, `cumulative layout shift ${layout.shift} is below 0.1`);
  });

  test('no screen logged an error or violated the Content Security Policy', () => {
    assert.deepEqual(problems, []);
  });
});

/**
 * Presses Shift+Tab until the link named `name` has focus, as a keyboard user would: focus moves to the page after each
 * navigation, and the menu comes before the page, so going back reaches it without crossing a page full of data.
 */
async function tabTo(page, name) {
  for (let presses = 0; presses < 60; presses++) {
    await page.keyboard.press('Shift+Tab');
    const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
    if (focused === name) {
      return;
    }
  }
  throw new Error(`"${name}" never received focus from the Tab key`);
}
