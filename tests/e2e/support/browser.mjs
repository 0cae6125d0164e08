import { chromium } from 'playwright-core';

import { chromiumExecutable } from './paths.mjs';

/**
 * Debian's Chromium, headless, with nothing that reaches the network on its own. Playwright gives
 * every launch a fresh temporary user-data directory and removes it on close.
 */
export function launchChromium() {
  return chromium.launch({
    executablePath: chromiumExecutable,
    headless: true,
    args: [
      '--headless',
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

/**
 * Records what the page reports as wrong: console errors, uncaught exceptions, and Content
 * Security Policy violations (from the `securitypolicyviolation` event, which an init script can
 * observe without being subject to the policy itself).
 */
export async function watchForProblems(page) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') {
      problems.push(`console error: ${message.text()} (${message.location().url})`);
    }
  });
  page.on('pageerror', (error) => problems.push(`uncaught exception: ${error.message}`));
  await page.exposeFunction('reportCspViolation', (violation) => problems.push(`CSP violation: ${violation}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || 'inline code'} in ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  return problems;
}
