// Lighthouse (performance, accessibility) on the signed-in dashboard and invoices pages of a running product, in the
// system Chromium, plus the initial JavaScript's gzip size as served. Run by `./invisible bench spa`
// (backend/Invisible.Cli/Benchmarks/SpaBenchmark.cs), which starts the product with its demo tenant and reads the one
// JSON line this prints last.
//
//   node bench.mjs --url http://127.0.0.1:PORT --data-dir DATA_DIR [--out DIR]
//
// Signing in: the SPA keeps its session in the tab (access token in memory, refresh token in sessionStorage), so
// Lighthouse's --extra-headers cannot carry it and a Lighthouse run in a fresh tab would land on /sign-in. Instead one
// Chromium is started, the demo administrator signs in through the real UI in one of its tabs (tests/e2e/support/
// session.mjs, driven over CDP by playwright-core, enrolling MFA with a computed TOTP code like a person would), and
// Lighthouse then audits that same tab through puppeteer-core (its own driver) with storage reset disabled, so the
// tab's sessionStorage session survives. The HTTP cache is cleared before every audit so each load is cold.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

import { launch } from 'chrome-launcher';
import lighthouse, { desktopConfig } from 'lighthouse';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

import { signInAsDemoAdmin } from '../e2e/support/session.mjs';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'data-dir': { type: 'string' },
    out: { type: 'string', default: resolve(import.meta.dirname ?? '.', 'output') },
  },
});
if (!values.url || !values['data-dir']) {
  console.error('usage: node bench.mjs --url http://127.0.0.1:PORT --data-dir DATA_DIR [--out DIR]');
  process.exit(2);
}
const baseUrl = values.url.replace(/\/$/, '');
const chromePath = process.env.CHROME_PATH || '/usr/bin/chromium';

/** The pages measured; the sign-in page (no session, no data) is the baseline measured in the same run. */
const pages = [
  { name: 'sign-in (baseline, signed out)', path: '/sign-in', signedIn: false },
  { name: 'dashboard', path: '/dashboard', signedIn: true },
  { name: 'invoices', path: '/invoices', signedIn: true },
];

const log = (line) => console.error(`  ${line}`);

/** Initial JS = the module script and modulepreloads index.html names, fetched as served, then gzipped (level 9). */
async function initialJavaScript() {
  const html = await (await fetch(`${baseUrl}/`)).text();
  const files = [
    ...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g),
  ].map((match) => match[1]);
  let raw = 0;
  let gzip = 0;
  for (const file of new Set(files)) {
    const bytes = Buffer.from(await (await fetch(new URL(file, `${baseUrl}/`))).arrayBuffer());
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: files.length, rawBytes: raw, gzipBytes: gzip };
}

/** One retry: on a loaded machine Lighthouse occasionally gives up on a page (protocol timeout, no paint in time). */
async function audit(page, target, out) {
  try {
    return await auditOnce(page, target, out);
  } catch (error) {
    log(`lighthouse failed on ${target.path} (${error.message}); trying once more`);
    return auditOnce(page, target, out);
  }
}

async function auditOnce(page, target, out) {
  const cdp = await page.createCDPSession();
  await cdp.send('Network.clearBrowserCache');
  await cdp.detach();
  const result = await lighthouse(
    `${baseUrl}${target.path}`,
    {
      // Keeps the tab's sessionStorage (the signed-in session); the cache was cleared above instead.
      disableStorageReset: true,
      onlyCategories: ['performance', 'accessibility'],
      output: 'html',
      logLevel: 'error',
    },
    desktopConfig,
    page,
  );
  const { lhr, report } = result;
  const finalUrl = lhr.finalDisplayedUrl ?? lhr.finalUrl;
  await writeFile(join(out, `lighthouse-${target.path.slice(1)}.html`), report);
  if (target.signedIn && !new URL(finalUrl).pathname.startsWith(target.path)) {
    throw new Error(`${target.path} ended on ${finalUrl}: the session did not survive into the Lighthouse run`);
  }
  return {
    page: target.name,
    path: target.path,
    finalUrl,
    performance: Math.round((lhr.categories.performance.score ?? 0) * 100),
    accessibility: Math.round((lhr.categories.accessibility.score ?? 0) * 100),
    largestContentfulPaintMs: Math.round(lhr.audits['largest-contentful-paint']?.numericValue ?? 0),
    cumulativeLayoutShift: Number((lhr.audits['cumulative-layout-shift']?.numericValue ?? 0).toFixed(3)),
    totalBlockingTimeMs: Math.round(lhr.audits['total-blocking-time']?.numericValue ?? 0),
    failedAccessibilityAudits: Object.values(lhr.audits)
      .filter((entry) => lhr.categories.accessibility.auditRefs.some((ref) => ref.id === entry.id && ref.weight > 0))
      .filter((entry) => entry.score !== null && entry.score < 1)
      .map((entry) => entry.id),
  };
}

await mkdir(values.out, { recursive: true });
const javaScript = await initialJavaScript();
log(`initial JS: ${javaScript.files} files, ${javaScript.rawBytes} B raw, ${javaScript.gzipBytes} B gzip`);

const chrome = await launch({
  chromePath,
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const results = [];
try {
  const cdpUrl = `http://127.0.0.1:${chrome.port}`;
  const automation = await chromium.connectOverCDP(cdpUrl);
  const context = automation.contexts()[0];
  const signInPage = context.pages()[0] ?? (await context.newPage());
  const driver = await puppeteer.connect({ browserURL: cdpUrl, defaultViewport: null });
  try {
    // Puppeteer learns of the SPA's in-page navigations (history.pushState) from a CDP event that can arrive after
    // Playwright has seen the new address: look again for a little while before giving up.
    const findTab = async () => {
      const url = signInPage.url();
      let seen = [];
      for (let attempt = 0; attempt < 50; attempt++) {
        const tabs = await driver.pages();
        const tab = tabs.find((candidate) => candidate.url() === url);
        if (tab) return tab;
        seen = tabs.map((candidate) => candidate.url());
        await delay(100);
      }
      throw new Error(`Cannot find the signed-in tab (${url}) through puppeteer; it sees ${seen.join(', ')}`);
    };

    // The baseline first, while nobody is signed in.
    await signInPage.goto(`${baseUrl}/sign-in`);
    log('lighthouse: sign-in page (baseline)');
    results.push(await audit(await findTab(), pages[0], values.out));

    log('signing in as the demo administrator through the UI (with MFA enrolment)');
    await signInAsDemoAdmin(signInPage, { httpUrl: baseUrl, dataDir: values['data-dir'] });
    const tab = await findTab();
    for (const target of pages.slice(1)) {
      log(`lighthouse: ${target.path}`);
      results.push(await audit(tab, target, values.out));
    }
  } finally {
    await driver.disconnect();
    await automation.close();
  }
} finally {
  chrome.kill();
}

console.log(JSON.stringify({ initialJavaScript: javaScript, pages: results }));
