import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { seriousAccessibilityViolations } from './support/axe.mjs';
import { launchChromium, watchForProblems } from './support/browser.mjs';
import { outputFolder } from './support/paths.mjs';
import { assertPrerequisites } from './support/prerequisites.mjs';
import { startProduct } from './support/product.mjs';
import { demoLogin, signInAsDemoAdmin, signInWithTotp, totp } from './support/session.mjs';

assertPrerequisites();

describe('signing in to the web app', () => {
  let product;
  let browser;
  let context;
  let page;
  let problems;
  let credentials;

  before(async () => {
    await mkdir(outputFolder, { recursive: true });
    product = await startProduct({ logFile: join(outputFolder, 'server-auth.log') });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    problems = await watchForProblems(page);
  });

  after(async () => {
    await browser?.close();
    await product?.stop();
  });

  test('computes TOTP codes as RFC 6238 specifies (its SHA-1 test vectors)', () => {
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890"
    assert.equal(totp(secret, 59_000), '287082');
    assert.equal(totp(secret, 1_111_111_109_000), '081804');
    assert.equal(totp(secret, 2_000_000_000_000), '279037');
  });

  test('a signed-out visitor is sent to the sign-in page, which passes an accessibility scan', async () => {
    await page.goto(`${product.httpUrl}/invoices`);

    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    assert.match(page.url(), /\/sign-in\?returnUrl=%2Finvoices$/);
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0);
    await page.screenshot({ path: join(outputFolder, 'sign-in.png'), fullPage: true });
    assert.deepEqual(await seriousAccessibilityViolations(page), []);
  });

  test('a wrong password is refused with the server’s message', async () => {
    const { email } = await demoLogin(product);
    const main = page.getByRole('main');
    await main.getByLabel('E-mail address').fill(email);
    await main.getByLabel('Password').fill('not the password');
    await main.getByRole('button', { name: 'Sign in' }).click();

    await main.getByRole('alert').filter({ hasText: 'The e-mail address or password is incorrect.' }).waitFor();
    assert.match(page.url(), /\/sign-in/);
  });

  test('the demo administrator signs in and must enrol TOTP first: QR code, code, recovery codes once', async () => {
    let enrolmentScan;
    credentials = await signInAsDemoAdmin(page, product, {
      atEnrolment: async (enrolment) => {
        const main = enrolment.getByRole('main');
        await main.getByRole('heading', { level: 1, name: 'Set up two-step sign-in' }).waitFor();
        await main.getByRole('img', { name: /QR code/ }).waitFor();
        await enrolment.screenshot({ path: join(outputFolder, 'mfa-enrolment.png'), fullPage: true });
        enrolmentScan = await seriousAccessibilityViolations(enrolment);
      },
    });

    assert.deepEqual(enrolmentScan, []);
    assert.match(credentials.totpSecret, /^[A-Z2-7]{16,}$/);
    assert.equal(credentials.recoveryCodes.length, 10);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByRole('banner').getByRole('button', { name: new RegExp(credentials.email) }).waitFor();
  });

  test('a reload keeps the session (the refresh token survives in the tab, the access token is renewed)', async () => {
    await page.goto(`${product.httpUrl}/settings`);

    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    assert.match(page.url(), /\/settings/);
  });

  test('settings, vendors and audit log screens pass an accessibility scan', async () => {
    const violations = [];
    for (const screen of [
      { path: 'settings/account', heading: 'Settings', file: 'settings-account' },
      { path: 'settings/users', heading: 'Settings', file: 'settings-users' },
      { path: 'settings/invitations', heading: 'Settings', file: 'settings-invitations' },
      { path: 'settings/api-keys', heading: 'Settings', file: 'settings-api-keys' },
      { path: 'settings/security', heading: 'Settings', file: 'settings-security' },
      { path: 'settings/tolerances', heading: 'Settings', file: 'settings-tolerances' },
      { path: 'vendors', heading: 'Vendors', file: 'vendors' },
      { path: 'audit', heading: 'Audit log', file: 'audit' },
    ]) {
      await page.goto(`${product.httpUrl}/${screen.path}`);
      await page.getByRole('heading', { level: 1, name: screen.heading }).waitFor();
      // Loaded, empty or failed: whatever the server answered, the page has settled.
      // A screen may have several cards loading at once (Settings: sign-in policy, approval policy, allowed networks).
      await page.waitForFunction(() => document.querySelector('[aria-busy="true"]') === null);
      await page.screenshot({ path: join(outputFolder, `${screen.file}.png`), fullPage: true });
      violations.push(...(await seriousAccessibilityViolations(page)).map((line) => `/${screen.path}: ${line}`));
    }

    assert.deepEqual(violations, []);
  });

  test('the administrator sees the users of the tenant, themselves included', async () => {
    await page.goto(`${product.httpUrl}/settings/users`);

    await page.getByRole('table', { name: 'Users' }).getByRole('cell', { name: credentials.email }).waitFor();
  });

  test('signing out ends the session: the workspace asks for sign-in again', async () => {
    await page.goto(`${product.httpUrl}/dashboard`);
    await page.getByRole('banner').getByRole('button', { name: new RegExp(credentials.email) }).click();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();

    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.goto(`${product.httpUrl}/dashboard`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  });

  test('signing in again asks for a code from the authenticator app', async () => {
    let challengeScan;
    await signInWithTotp(page, product, credentials, {
      atChallenge: async (challenge) => {
        await challenge.getByRole('heading', { level: 1, name: 'Enter your sign-in code' }).waitFor();
        await challenge.screenshot({ path: join(outputFolder, 'mfa-challenge.png'), fullPage: true });
        challengeScan = await seriousAccessibilityViolations(challenge);
      },
    });

    assert.deepEqual(challengeScan, []);

    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  });

  test('an invited clerk accepts the link, sets a password, enrols TOTP and sees only what a clerk may use', async () => {
    await page.goto(`${product.httpUrl}/settings/invitations`);
    const main = page.getByRole('main');
    await main.getByText('No invitations yet').waitFor();
    await main.getByLabel('E-mail address').fill('new.clerk@demo.invisible.local');
    await main.getByLabel('Role').selectOption('clerk');
    await main.getByRole('button', { name: 'Create invitation' }).click();
    const link = await main.getByTestId('invitation-link').textContent();
    assert.match(link, /\/accept-invitation#token=.+/);

    const invited = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const clerkPage = await invited.newPage();
      await clerkPage.goto(link);
      const clerkMain = clerkPage.getByRole('main');
      await clerkMain.getByRole('heading', { level: 1, name: 'Accept your invitation' }).waitFor();
      assert.deepEqual(await seriousAccessibilityViolations(clerkPage), []);
      await clerkMain.getByLabel('Your name').fill('New Clerk');
      await clerkMain.getByLabel('Password', { exact: true }).fill('short');
      await clerkMain.getByLabel('Repeat the password').fill('short');
      await clerkMain.getByRole('button', { name: 'Create my account' }).click();
      // The policy's own words, from the server's field violations.
      await clerkMain.getByRole('alert').filter({ hasText: 'at least 12 characters' }).waitFor();

      const password = 'ledger-otter-quartz-harbour-7';
      await clerkMain.getByLabel('Password', { exact: true }).fill(password);
      await clerkMain.getByLabel('Repeat the password').fill(password);
      await clerkMain.getByRole('button', { name: 'Create my account' }).click();
      await clerkPage.waitForURL('**/mfa/enrol');
      const secretText = clerkMain.getByTestId('totp-secret');
      await secretText.waitFor({ state: 'attached' });
      const secret = (await secretText.textContent()).replace(/\s/g, '');
      await clerkMain.getByLabel('6-digit code from the app').fill(totp(secret));
      await clerkMain.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
      await clerkMain.getByRole('button', { name: 'I have saved my codes' }).click();
      await clerkPage.waitForURL('**/dashboard');

      const sections = await clerkPage.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
      assert.equal(sections.map((text) => text.trim()).includes('Audit log'), false);
      await clerkPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
      const settingsNavigation = clerkPage.getByRole('navigation', { name: 'Settings' });
      await settingsNavigation.getByRole('link', { name: 'Your account' }).waitFor();
      const settings = await settingsNavigation.getByRole('link').allTextContents();
      assert.deepEqual(settings.map((text) => text.trim()), ['Your account', 'Tolerances', 'Matching model', 'QuickBooks']);
      await clerkPage.goto(`${product.httpUrl}/audit`);
      await clerkPage.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    } finally {
      await invited.close();
    }

    await page.reload();
    await page.getByRole('table', { name: 'Invitations' }).getByRole('cell', { name: 'Accepted' }).waitFor();
  });

  test('signing out everywhere ends the sessions of other browsers too', async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const otherPage = await other.newPage();
      await signInWithTotp(otherPage, product, credentials);

      await page.getByRole('banner').getByRole('button', { name: new RegExp(credentials.email) }).click();
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();

      // The other browser's next call (opening Settings, or its live stream) is refused and its refresh token no longer
      // works: it is sent to sign in again.
      await otherPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
      await otherPage.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
      await otherPage.getByText('Your session has ended. Sign in again.').waitFor();
    } finally {
      await other.close();
    }
  });

  test('a link to a page of the workspace leads back to it after signing in', async () => {
    await signInWithTotp(page, product, credentials, { startAt: '/settings/users' });

    await page.getByRole('table', { name: 'Users' }).waitFor();
  });

  test('no page logged an error or violated the Content Security Policy', () => {
    assert.deepEqual(
      problems.filter((problem) => !/Failed to load resource/.test(problem)),
      [],
    );
  });
});
