// Approval policies in the browser against the real product: an admin saves a rule needing two approvals (Settings →
// Approvals), approves an exception first (it stays in the queue, saying what is still needed), and an invited approver
// in a second browser gives the second approval: the exception leaves both queues live, without a reload.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { seriousAccessibilityViolations } from './support/axe.mjs';
import { launchChromium, watchForProblems } from './support/browser.mjs';
import { outputFolder } from './support/paths.mjs';
import { assertPrerequisites } from './support/prerequisites.mjs';
import { startProduct } from './support/product.mjs';
import { signInAsDemoAdmin, totp } from './support/session.mjs';

const liveTimeoutMs = 15_000;

assertPrerequisites();

describe('approval policies', () => {
  let product;
  let browser;
  let page;
  let problems;

  before(async () => {
    await mkdir(outputFolder, { recursive: true });
    product = await startProduct({ logFile: join(outputFolder, 'approvals-server.log'), demo: true });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    problems = await watchForProblems(page);
    await signInAsDemoAdmin(page, product);
  });

  after(async () => {
    await browser?.close();
    await product?.stop();
  });

  /** Invites an approver from the admin's Settings and signs them in (account, TOTP) in a browser context of their own. */
  async function invitedApprover() {
    await page.goto(`${product.httpUrl}/settings/invitations`);
    const main = page.getByRole('main');
    await main.getByLabel('E-mail address').fill('second.approver@demo.invisible.local');
    await main.getByLabel('Role').selectOption('approver');
    await main.getByRole('button', { name: 'Create invitation' }).click();
    const link = await main.getByTestId('invitation-link').textContent();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const approver = await context.newPage();
    await approver.goto(link);
    const approverMain = approver.getByRole('main');
    await approverMain.getByLabel('Your name').fill('Second Approver');
    const password = 'ledger-otter-quartz-harbour-9';
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

  test('a second approval completes an exception live in both browsers', async () => {
    const { context, approver } = await invitedApprover();
    try {
      await page.goto(`${product.httpUrl}/settings/approvals`);
      const main = page.getByRole('main');
      await main.getByRole('heading', { name: 'Approval rules' }).waitFor();
      await main.getByRole('button', { name: 'Add a rule' }).click();
      await main.getByLabel('Name', { exact: true }).fill('Two people look at everything');
      await main.getByLabel('Approvals needed').fill('2');
      await main.getByRole('button', { name: 'Preview on open exceptions' }).click();
      await main.getByTestId('rules-preview').waitFor();
      await page.screenshot({ path: join(outputFolder, 'approvals-rules.png'), fullPage: true });
      assert.deepEqual(await seriousAccessibilityViolations(page), [], 'axe on Settings → Approvals');
      await main.getByRole('button', { name: 'Save approval rules' }).click();
      await main.getByText('Approval rules saved (1).').waitFor();

      await page.goto(`${product.httpUrl}/exceptions`);
      const firstRow = page.locator('tr[data-exception-id]').first();
      await firstRow.waitFor();
      const exceptionId = await firstRow.getAttribute('data-exception-id');
      const invoice = await firstRow.getAttribute('data-invoice');
      const row = page.locator(`tr[data-exception-id="${exceptionId}"]`);
      await approver.goto(`${product.httpUrl}/exceptions`);
      const approverRow = approver.locator(`tr[data-exception-id="${exceptionId}"]`);
      await approverRow.waitFor();
      let adminNavigations = 0;
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) adminNavigations++;
      });

      await row.getByRole('button', { name: `Approve invoice ${invoice}` }).click();
      const panel = page.getByTestId('action-panel');
      await panel.getByTestId('approval-summary').filter({ hasText: '2 more approvals' }).waitFor();
      await panel.getByLabel('Reason (recorded in the audit log)').fill('Checked against the delivery note');
      await panel.getByRole('button', { name: 'Approve', exact: true }).click();
      // The page announces it to screen readers (a visually hidden live region).
      await page
        .locator('p[aria-live="polite"]')
        .filter({ hasText: `Your approval of invoice ${invoice} is recorded. 1 more approval.` })
        .waitFor({ state: 'attached' });
      assert.equal(await row.count(), 1, 'one approval of two leaves the exception in the queue');

      await approverRow.getByRole('button', { name: `Approve invoice ${invoice}` }).click();
      const approverPanel = approver.getByTestId('action-panel');
      await approverPanel.getByTestId('approval-summary').filter({ hasText: '1 more approval' }).waitFor();
      await approver.screenshot({ path: join(outputFolder, 'approvals-second-approval.png'), fullPage: true });
      await approverPanel.getByLabel('Reason (recorded in the audit log)').fill('Second pair of eyes');
      await approverPanel.getByRole('button', { name: 'Approve', exact: true }).click();

      await approverRow.waitFor({ state: 'detached', timeout: liveTimeoutMs });
      await row.waitFor({ state: 'detached', timeout: liveTimeoutMs });
      assert.equal(adminNavigations, 0, "the admin's queue updated without reloading");
    } finally {
      await context.close();
    }
  });

  test('had no console error, uncaught exception or CSP violation', () => {
    assert.deepEqual(problems, []);
  });
});
