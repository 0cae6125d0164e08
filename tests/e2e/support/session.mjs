import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const stepSeconds = 30;

/** RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s steps), as authenticator apps compute it. */
export function totp(secretBase32, at = Date.now()) {
  return totpAtStep(secretBase32, Math.floor(at / 1000 / stepSeconds));
}

function totpAtStep(secretBase32, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const character of clean) {
    const index = alphabet.indexOf(character);
    if (index < 0) {
      throw new Error(`"${character}" is not a Base32 character`);
    }
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/**
 * A code the server has not seen yet. The server refuses a code of a time step at or before the last one it accepted
 * (replay protection) and accepts one step of drift, so this uses the next unused step: the current one, or the next
 * one (valid at once thanks to the drift), or waits until a later one comes within reach.
 */
async function unusedCode(product) {
  const current = Math.floor(Date.now() / 1000 / stepSeconds);
  const step = Math.max(current, (product.lastTotpStep ?? -1) + 1);
  if (step > current + 1) {
    await delay((step - 1) * stepSeconds * 1000 - Date.now() + 200);
  }
  product.lastTotpStep = step;
  return totpAtStep(product.totpSecret, step);
}

/** The demo administrator's sign-in, which `invisible up` writes once the demo tenant exists. */
export async function demoLogin(product) {
  const file = join(product.dataDir, 'demo-login.json');
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const login = JSON.parse(await readFile(file, 'utf8'));
      return { email: login.Email, password: login.Password, tenantSlug: login.TenantSlug };
    } catch (error) {
      if (Date.now() > deadline || (error.code !== 'ENOENT' && !(error instanceof SyntaxError))) {
        throw new Error(`No demo sign-in in ${file}: ${error.message}`);
      }
      await delay(250);
    }
  }
}

async function submitPassword(page, product, { email, password }, startAt = '/sign-in') {
  // A page of the workspace sends a signed-out visitor to sign in, and back to it afterwards.
  await page.goto(`${product.httpUrl}${startAt}`);
  const main = page.getByRole('main');
  await main.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await main.getByLabel('E-mail address').fill(email);
  await main.getByLabel('Password').fill(password);
  await main.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/(mfa\/enrol|mfa\/verify|dashboard)/);
}

/**
 * Signs in as the demo tenant's administrator through the UI and, on the first sign-in, enrols TOTP the way a person
 * does (reads the secret offered for typing, enters a code computed from it). The secret is kept on `product` for
 * later sign-ins. Resolves on the dashboard with `{ email, password, totpSecret, recoveryCodes? }`.
 * `atEnrolment(page)`, if given, runs on the enrolment page before the code is entered.
 */
export async function signInAsDemoAdmin(page, product, { atEnrolment } = {}) {
  const login = await demoLogin(product);
  if (product.totpSecret !== undefined) {
    return signInWithTotp(page, product, { ...login, totpSecret: product.totpSecret });
  }
  await submitPassword(page, product, login);
  if (!page.url().includes('/mfa/enrol')) {
    throw new Error(`The demo administrator was expected to enrol MFA first, but the app went to ${page.url()}`);
  }
  const main = page.getByRole('main');
  const secretText = main.getByTestId('totp-secret');
  await secretText.waitFor({ state: 'attached' });
  // For tests that look at the enrolment page itself (screenshot, accessibility scan) before it is completed.
  await atEnrolment?.(page);
  const secret = (await secretText.textContent()).replace(/\s/g, '');
  product.totpSecret = secret;
  await main.getByLabel('6-digit code from the app').fill(await unusedCode(product));
  await main.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await main.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  const recoveryCodes = await main.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents();
  await main.getByRole('button', { name: 'I have saved my codes' }).click();
  await page.waitForURL('**/dashboard');
  return { ...login, totpSecret: secret, recoveryCodes: recoveryCodes.map((code) => code.trim()) };
}

/**
 * Signs in again (e.g. in a second browser context) with the password and a fresh TOTP code; ends on the dashboard.
 * `atChallenge(page)`, if given, runs on the code page before the code is entered. `startAt` (e.g. '/invoices')
 * opens that page first, signs in from where it redirects, and ends back on it.
 */
export async function signInWithTotp(page, product, credentials, { atChallenge, startAt } = {}) {
  product.totpSecret ??= credentials.totpSecret;
  await submitPassword(page, product, credentials, startAt);
  if (!page.url().includes('/mfa/verify')) {
    throw new Error(`A code was expected to be asked for, but the app went to ${page.url()}`);
  }
  const main = page.getByRole('main');
  await main.getByLabel('6-digit code').waitFor();
  // For tests that look at the code page itself (screenshot, accessibility scan).
  await atChallenge?.(page);
  await main.getByLabel('6-digit code').fill(await unusedCode(product));
  await main.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(startAt === undefined ? '**/dashboard' : `**${startAt}`);
  return { ...credentials, totpSecret: product.totpSecret };
}
