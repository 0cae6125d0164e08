// Notifications in the browser against the real product: an invited approver is signed in in a second browser; an
// exception is assigned to them (through the REST API with an admin's API key, as another person or system would) and
// the bell in their header counts it and lists it live, without a reload; the link opens the exception queue.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { seriousAccessibilityViolations } from './support/axe.mjs';
import { launchChromium, watchForProblems } from './support/browser.mjs';
import { cliDll, outputFolder } from './support/paths.mjs';
import { assertPrerequisites } from './support/prerequisites.mjs';
import { startProduct } from './support/product.mjs';
import { demoLogin, signInAsDemoAdmin, totp } from './support/session.mjs';

const liveTimeoutMs = 15_000;

assertPrerequisites();

describe('notifications', () => {
  let product;
  let browser;
  let page;
  let problems;
  let apiKey;

  before(async () => {
    await mkdir(outputFolder, { recursive: true });
    product = await startProduct({ logFile: join(outputFolder, 'notifications-server.log'), demo: true });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    problems = await watchForProblems(page);
    await signInAsDemoAdmin(page, product);
    const { tenantSlug } = await demoLogin(product);
    const { stdout } = await promisify(execFile)('dotnet', [
      cliDll, 'api-key', 'create', '--data-dir', product.dataDir, '--tenant', tenantSlug, '--name', 'e2e assigner', '--role', 'admin',
    ]);
    apiKey = stdout.trim().split('\n').at(-1).trim();
  });

  after(async () => {
    await browser?.close();
    await product?.stop();
  });

  async function rest(method, path, body) {
    const response = await fetch(`${product.httpUrl}${path}`, {
      method,
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.equal(response.status, 200, `${method} ${path}: ${await response.clone().text()}`);
    return response.json();
  }

  /** Invites an approver from the admin's Settings and signs them in (account, TOTP) in a browser context of their own. */
  async function invitedApprover() {
    await page.goto(`${product.httpUrl}/settings/invitations`);
    const main = page.getByRole('main');
    await main.getByLabel('E-mail address').fill('told.approver@demo.invisible.local');
    await main.getByLabel('Role').selectOption('approver');
    await main.getByRole('button', { name: 'Create invitation' }).click();
    const link = await main.getByTestId('invitation-link').textContent();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const approver = await context.newPage();
    await approver.goto(link);
    const approverMain = approver.getByRole('main');
    await approverMain.getByLabel('Your name').fill('Told Approver');
    const password = 'bell-heron-granite-lantern-4';
    await approverMain.getByLabel('Password', { exact: true }).fill(password);
    await approverMain.getByLabel('Repeat the password').fill(password);
    await approverMain.getByRole('button', { name: 'Create my account' }).click();
    await approver.waitForURL('**/mfa/enrol');
    const secretText = approverMain.getByTestId('totp-secret');
    await secretText.waitFor({ state: 'attached' });
    const secret = (await secretText.textContent()).replace(/\s/g, '');
    await approverMain.getByLabel('6-digit code from the app').fill(totp(secret));
    await approverMain.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await approverMain.getByRole('button', { name: 'I have saved my codes' }).click();
    await approver.waitForURL('**/dashboard');
    return { context, approver };
  }

  test("assigning an exception to a person shows it in that person's bell live", async () => {
    const { context, approver } = await invitedApprover();
    try {
      // The approver takes one exception themselves (no notification for that): its assignee is their id.
      await approver.goto(`${product.httpUrl}/exceptions`);
      const firstRow = approver.locator('tr[data-exception-id]').first();
      await firstRow.waitFor();
      const taken = await firstRow.getAttribute('data-exception-id');
      const takenInvoice = await firstRow.getAttribute('data-invoice');
      await firstRow.getByRole('button', { name: `Assign to me invoice ${takenInvoice}` }).click();
      let approverId = '';
      for (const deadline = Date.now() + liveTimeoutMs; approverId === '' && Date.now() < deadline; ) {
        approverId = (await rest('GET', `/v1/exceptions/${taken}`)).assigneeId ?? '';
      }
      assert.notEqual(approverId, '', 'the self-assignment was saved');
      const bell = approver.getByTestId('notification-bell');
      await approver.getByTestId('unread-count').filter({ hasText: /^0$/ }).waitFor();
      let navigations = 0;
      approver.on('framenavigated', (frame) => {
        if (frame === approver.mainFrame()) navigations++;
      });

      const other = (await rest('GET', '/v1/exceptions')).items.find((item) => item.id !== taken);
      await rest('POST', `/v1/exceptions/${other.id}:assign`, { userId: approverId });

      await approver.getByTestId('unread-count').filter({ hasText: /^1$/ }).waitFor({ timeout: liveTimeoutMs });
      assert.equal(navigations, 0, 'the bell counted the assignment without a reload');
      await bell.click();
      const entry = approver.getByRole('region', { name: 'Notifications' }).getByRole('link', {
        name: `Exception assigned to you: invoice ${other.invoice.invoiceNumber}`,
        exact: false,
      });
      await entry.waitFor();
      await approver.screenshot({ path: join(outputFolder, 'notifications-bell.png'), fullPage: true });
      assert.deepEqual(await seriousAccessibilityViolations(approver), [], 'axe with the notification panel open');
      await entry.click();
      await approver.waitForURL(`**/exceptions?item=${other.id}`);
      await approver.getByTestId('unread-count').filter({ hasText: /^0$/ }).waitFor();
    } finally {
      await context.close();
    }
  });

  test('had no console error, uncaught exception or CSP violation', () => {
    assert.deepEqual(problems, []);
  });
});
