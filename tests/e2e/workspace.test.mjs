// The clerk's workspace against the real product: upload the spec samples and watch progress, reconcile, read the
// dashboard, open an invoice's 3-way view, approve an exception in one browser while a second watches it leave the
// queue live, and see a rejected upload's row errors. Every screen is screenshotted and scanned with axe-core.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { seriousAccessibilityViolations } from './support/axe.mjs';
import { launchChromium, watchForProblems } from './support/browser.mjs';
import { outputFolder, specSamples as samples, specSamplesMissing } from './support/paths.mjs';
import { assertPrerequisites } from './support/prerequisites.mjs';
import { startProduct } from './support/product.mjs';
import { signInAsDemoAdmin, signInWithTotp } from './support/session.mjs';

/** In dependency order: an invoice is matched against vendors, purchase orders and receipts already imported. */
const sampleFiles = [
  { file: 'vendors.csv', kind: 'Vendors' },
  { file: 'purchase_orders.csv', kind: 'Purchase orders' },
  { file: 'receipts.csv', kind: 'Receipts' },
  { file: 'invoices.csv', kind: 'Invoices' },
];

/** Invoice 292 of the samples is an exception (expected_results.csv): a price/quantity variance against PO 10046. */
const exceptionInvoice = '292';

const liveTimeoutMs = 15_000;

assertPrerequisites();

describe('the clerk workspace', { skip: specSamplesMissing }, () => {
  let product;
  let browser;
  let page;
  let problems;
  let credentials;

  before(async () => {
    await mkdir(outputFolder, { recursive: true });
    // The demo tenant (and its admin's sign-in in DATA_DIR/demo-login.json) is what session.mjs signs in with.
    product = await startProduct({ logFile: join(outputFolder, 'workspace-server.log'), demo: true });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    problems = await watchForProblems(page);
    credentials = await signInAsDemoAdmin(page, product);
  });

  after(async () => {
    await browser?.close();
    await product?.stop();
  });

  async function screen(name) {
    await page.screenshot({ path: join(outputFolder, `workspace-${name}.png`), fullPage: true });
    assert.deepEqual(await seriousAccessibilityViolations(page), [], `axe on ${name}`);
  }

  /**
   * Records whether an element matching `selector` (and containing `text`) was ever in the page: progress comes and
   * goes faster than a test can poll for it.
   */
  async function watchFor(selector, text = '') {
    const key = `${selector}|${text}`;
    await page.evaluate(
      ({ wanted, contains, key }) => {
        window.__seen ??= {};
        const present = () => Array.from(document.querySelectorAll(wanted)).some((element) => element.textContent.includes(contains));
        window.__seen[key] = present();
        new MutationObserver(() => {
          if (present()) window.__seen[key] = true;
        }).observe(document.body, { childList: true, subtree: true, characterData: true });
      },
      { wanted: selector, contains: text, key },
    );
    return () => page.evaluate((seenKey) => window.__seen?.[seenKey] === true, key);
  }

  /** Uploads a file and waits for ITS result (the previous file's result is on screen until the upload starts). */
  async function upload(filePath, kind) {
    const fileName = basename(filePath);
    await page.locator('input[type=file]').setInputFiles(filePath);
    await page.getByLabel('What the file contains').selectOption({ label: kind });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page
      .getByTestId('import-result')
      .getByRole('heading', { name: new RegExp(`^${fileName.replace('.', '\\.')} `) })
      .waitFor({ timeout: 60_000 });
  }

  /**
   * The demo tenant may hold many seeded exceptions: narrow the queue to the sample invoice by the amount it holds
   * (the invoice total, 4,891.04 USD), through the page's own filters.
   */
  async function showOnlyTheSampleException(target) {
    await target.getByLabel('Amount from').fill('4891');
    await target.getByLabel('Amount to').fill('4892');
    await target.getByRole('button', { name: 'Apply' }).click();
  }

  test('uploads the sample files with upload progress, and lists them in the history', async () => {
    await page.goto(`${product.httpUrl}/imports`);
    await page.getByRole('heading', { level: 1, name: 'Imports' }).waitFor();

    for (const { file, kind } of sampleFiles) {
      const sawUploadProgress = await watchFor('#upload-progress');
      await upload(join(samples, file), kind);

      const result = page.getByTestId('import-result');
      assert.match(await result.getByRole('heading').innerText(), new RegExp(`^${file.replace('.', '\\.')} (imported|was already imported)$`));
      assert.equal(await sawUploadProgress(), true, `upload progress shown for ${file}`);
    }

    const history = page.getByTestId('import-history');
    for (const { file } of sampleFiles) {
      await history.getByRole('row').filter({ hasText: file }).first().waitFor();
    }
    await screen('imports');
  });

  test('a rejected upload shows its row errors and offers them as a CSV', async () => {
    const header = (await readFile(join(samples, 'invoices.csv'), 'utf8')).split('\n')[0];
    const broken = join(outputFolder, 'broken_invoices.csv');
    await writeFile(
      broken,
      [
        header,
        'X-1,Oakmont Office Prods GmbH,DE572938280,not-a-date,EUR,,1,,Lever arch file,abc,3.18,190.80,9.54,200.34',
        'X-1,Oakmont Office Prods GmbH,DE572938280,2026-02-27,EUR,,2,,Toner,1,zz,82.97,1.00,200.34',
        '',
      ].join('\n'),
    );

    await upload(broken, 'Invoices');

    const result = page.getByTestId('import-result');
    assert.equal(await result.getByRole('heading').innerText(), 'broken_invoices.csv was rejected');
    const rows = result.locator('tbody tr');
    assert.ok((await rows.count()) >= 2, 'one table row per error');
    const lines = await rows.locator('td:first-child').allInnerTexts();
    assert.ok(lines.includes('2') && lines.includes('3'), `errors on file lines 2 and 3, got ${lines.join(', ')}`);
    assert.match(await result.locator('tbody').innerText(), /abc/);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      result.getByRole('button', { name: 'Download errors CSV' }).click(),
    ]);
    const csv = await readFile(await download.path(), 'utf8');
    assert.match(csv.split('\n')[0], /line/i);
    assert.match(csv, /abc/);
    await screen('imports-rejected');
  });

  test('reconciles and shows the numbers on the dashboard', async () => {
    await page.goto(`${product.httpUrl}/reports`);
    await page.getByRole('button', { name: 'Reconcile now' }).click();
    await page.getByTestId('reconcile-result').waitFor({ timeout: 60_000 });
    assert.match(await page.getByTestId('reconcile-result').innerText(), /\d+ invoice\(s\) reconciled/);
    await screen('reports');

    await page.goto(`${product.httpUrl}/dashboard`);
    const invoices = page.locator('[data-kpi="invoices"]');
    await invoices.waitFor();
    // The 20 sample invoices, plus whatever the demo tenant was seeded with.
    assert.ok(Number((await invoices.innerText()).replace(/\D/g, '')) >= 20);
    assert.ok(Number((await page.locator('[data-kpi="imports-today"]').innerText()).replace(/\D/g, '')) >= 4);
    assert.match(await page.locator('[data-kpi="touchless"]').innerText(), /^\d+(\.\d)?\s?%$/);
    assert.ok(Number((await page.locator('[data-kpi="exceptions"]').innerText()).replace(/\D/g, '')) >= 1);
    // The charts are deferred until the browser is idle, then drawn as SVG.
    await page.getByRole('img', { name: /^Invoices by status:/ }).waitFor();
    await screen('dashboard');
  });

  test('lists invoices with filters in the URL and opens the 3-way view', async () => {
    await page.goto(`${product.httpUrl}/invoices`);
    await page.getByRole('searchbox', { name: 'Search' }).fill(exceptionInvoice);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(`**/invoices?q=${exceptionInvoice}`);
    const link = page.getByTestId('invoice-table').getByRole('link', { name: exceptionInvoice, exact: true });
    await link.waitFor();
    await screen('invoices');

    await link.click();
    await page.getByRole('heading', { level: 1, name: `Invoice ${exceptionInvoice}` }).waitFor();
    const threeWay = page.getByTestId('three-way');
    assert.equal(await threeWay.locator('tbody tr').count(), 5, 'the five invoice lines of 292');
    assert.ok((await threeWay.locator('.variance').count()) >= 1, 'variances are highlighted');
    const explanations = await page.getByTestId('explanations').innerText();
    assert.match(explanations, /Vendor/);
    assert.match(explanations, /Purchase order/);
    await screen('invoice-detail');
  });

  test('an approval in one browser leaves the queue live in another', async () => {
    const second = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const other = await second.newPage();
      await signInWithTotp(other, product, credentials);
      await other.goto(`${product.httpUrl}/exceptions`);
      await showOnlyTheSampleException(other);
      const otherRow = other.locator(`tr[data-invoice="${exceptionInvoice}"]`);
      await otherRow.waitFor();
      let otherNavigations = 0;
      other.on('framenavigated', (frame) => {
        if (frame === other.mainFrame()) otherNavigations++;
      });

      await page.goto(`${product.httpUrl}/exceptions`);
      await showOnlyTheSampleException(page);
      const row = page.locator(`tr[data-invoice="${exceptionInvoice}"]`);
      await row.waitFor();
      await screen('exceptions');
      await row.getByRole('button', { name: `Approve invoice ${exceptionInvoice}` }).click();
      const panel = page.getByTestId('action-panel');
      await panel.getByLabel('Reason (recorded in the audit log)').fill('Variance agreed with the buyer by phone');
      await screen('exceptions-approve');
      await panel.getByRole('button', { name: 'Approve', exact: true }).click();

      await row.waitFor({ state: 'detached', timeout: liveTimeoutMs });
      await otherRow.waitFor({ state: 'detached', timeout: liveTimeoutMs });
      assert.equal(otherNavigations, 0, 'the second browser updated without reloading');
      await other.screenshot({ path: join(outputFolder, 'workspace-exceptions-second-browser.png'), fullPage: true });
    } finally {
      await second.close();
    }
  });

  // Last, so that its extra vendors cannot change how the sample invoices were matched above.
  test('shows the server’s own progress while it reads a larger file', async () => {
    const vendors = join(outputFolder, 'more_vendors.csv');
    const rows = Array.from({ length: 5_000 }, (_, i) => `V${50_000 + i},Progress Test Vendor ${i} Ltd,TX${i},ap${i}@example.com,US,USD,NET30`);
    await writeFile(vendors, ['vendor_code,name,tax_id,email,country,currency,payment_terms', ...rows, ''].join('\n'));
    await page.goto(`${product.httpUrl}/imports`);
    await page.getByRole('heading', { level: 1, name: 'Imports' }).waitFor();
    // "… rows read" is shown only once the server has reported its progress on the CompleteUpload stream.
    const sawServerProgress = await watchFor('[data-testid=server-progress]', 'rows read');

    await upload(vendors, 'Vendors');

    assert.equal(await sawServerProgress(), true, 'server progress shown');
    assert.equal(await page.getByTestId('import-result').getByRole('heading').innerText(), 'more_vendors.csv imported');
  });

  test('had no console error, uncaught exception or CSP violation', () => {
    assert.deepEqual(problems, []);
  });
});
