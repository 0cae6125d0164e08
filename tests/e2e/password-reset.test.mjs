import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { seriousAccessibilityViolations } from './support/axe.mjs';
import { launchChromium } from './support/browser.mjs';
import { outputFolder } from './support/paths.mjs';
import { assertPrerequisites } from './support/prerequisites.mjs';
import { startProduct } from './support/product.mjs';
import { signInAsDemoAdmin, signInWithTotp } from './support/session.mjs';

assertPrerequisites();

/** Short enough to see a link expire within the test, long enough to use one on a busy machine. */
const resetLifetimeSeconds = 30;

/** The reset links e-mailed to `recipient` so far, oldest first, read from the embedded sender's .eml files. */
async function resetLinks(product, recipient) {
  const folder = join(product.dataDir, 'mail');
  const names = (await readdir(folder).catch(() => [])).filter((name) => name.endsWith('.eml')).sort();
  const links = [];
  for (const name of names) {
    const message = await readFile(join(folder, name), 'utf8');
    if (!new RegExp(`^To: .*${recipient.replace(/[.+]/g, '\\$&')}`, 'mi').test(message)) {
      continue;
    }
    const text = plainTextOf(message);
    const link = text.match(/https?:\/\/\S+\/reset-password#token=\S+/)?.[0];
    if (link !== undefined) {
      links.push(link);
    }
  }
  return links;
}

/** The text/plain part of a MIME message as the product writes it (MimeKit, base64 bodies). */
function plainTextOf(message) {
  const part = message.split(/\r?\n--/).find((section) => /Content-Type: text\/plain/i.test(section));
  assert.ok(part, 'the e-mail has a text/plain part');
  const [headers, ...body] = part.split(/\r?\n\r?\n/);
  const content = body.join('\n\n');
  return /Content-Transfer-Encoding: base64/i.test(headers)
    ? Buffer.from(content.replace(/\s/g, ''), 'base64').toString('utf8')
    : content;
}

async function waitForResetLink(product, recipient, count) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const links = await resetLinks(product, recipient);
    if (links.length >= count) {
      return links[count - 1];
    }
    if (Date.now() > deadline) {
      throw new Error(`${links.length} of ${count} reset e-mails to ${recipient} arrived within 30 s`);
    }
    await delay(250);
  }
}

async function askForLink(page, product, email) {
  await page.goto(`${product.httpUrl}/sign-in`);
  const main = page.getByRole('main');
  await main.getByRole('link', { name: 'Forgot password?' }).click();
  await main.getByRole('heading', { level: 1, name: 'Forgot your password' }).waitFor();
  await main.getByLabel('E-mail address').fill(email);
  await main.getByRole('button', { name: 'Send me a link' }).click();
  await main.getByRole('status').filter({ hasText: 'we have sent it a link' }).waitFor();
}

async function setPasswordFrom(page, link, password) {
  await page.goto(link);
  const main = page.getByRole('main');
  await main.getByRole('heading', { level: 1, name: 'Set a new password' }).waitFor();
  await main.getByLabel('New password', { exact: true }).fill(password);
  await main.getByLabel('Repeat the new password').fill(password);
  await main.getByRole('button', { name: 'Set the new password' }).click();
  return main;
}

describe('recovering an account with "Forgot password?"', () => {
  let product;
  let browser;
  let credentials;

  before(async () => {
    await mkdir(outputFolder, { recursive: true });
    product = await startProduct({
      logFile: join(outputFolder, 'server-password-reset.log'),
      env: { INVISIBLE_Auth__PasswordResetLifetime: `00:00:${resetLifetimeSeconds}` },
    });
    browser = await launchChromium();
    const enrolling = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    credentials = await signInAsDemoAdmin(await enrolling.newPage(), product);
    await enrolling.close();
  });

  after(async () => {
    await browser?.close();
    await product?.stop();
  });

  test('a link from the e-mail sets a new password, and signing in with it still asks for the TOTP code', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await askForLink(page, product, credentials.email);
      assert.deepEqual(await seriousAccessibilityViolations(page), []);
      const link = await waitForResetLink(product, credentials.email, 1);
      assert.ok(link.startsWith(`${product.httpUrl}/reset-password#token=`), link);

      const newPassword = 'forgotten-then-found-harbour-9';
      const main = await setPasswordFrom(page, link, newPassword);
      await main.getByRole('status').filter({ hasText: 'Your new password is set' }).waitFor();
      await page.screenshot({ path: join(outputFolder, 'password-reset-done.png'), fullPage: true });
      assert.deepEqual(await seriousAccessibilityViolations(page), []);

      credentials = await signInWithTotp(page, product, { ...credentials, password: newPassword });
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();

      // The same link again, from a browser without a session: refused as used.
      const again = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const reused = await setPasswordFrom(await again.newPage(), link, 'someone-else-trying-again-3');
        await reused.getByRole('alert').filter({ hasText: 'This link was already used.' }).waitFor();
        await reused.getByRole('link', { name: 'Ask for a new link' }).waitFor();
      } finally {
        await again.close();
      }
    } finally {
      await context.close();
    }
  });

  test('an expired link is refused with "this link has expired"', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      const sent = (await resetLinks(product, credentials.email)).length;
      await askForLink(page, product, credentials.email);
      const link = await waitForResetLink(product, credentials.email, sent + 1);
      await delay((resetLifetimeSeconds + 2) * 1000);

      const main = await setPasswordFrom(page, link, 'too-late-for-this-link-4');

      await main.getByRole('alert').filter({ hasText: 'This link has expired. Ask for a new one.' }).waitFor();
      await page.screenshot({ path: join(outputFolder, 'password-reset-expired.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
