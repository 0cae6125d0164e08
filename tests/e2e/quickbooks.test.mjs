// A clerk watches a matched invoice become a QuickBooks Bill without touching it: the invoice page is open while the invoice
// waits for its goods; the receipt arrives (another tab), the invoice is matched, the worker exports it to the stand-in
// QuickBooks Online company, and the page's QuickBooks card reads "In QuickBooks as Bill N" with no click and no reload.
// Without the automatic export (or the card's polling) the card never says so and the stand-in holds no Bill.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';

import { seriousAccessibilityViolations } from './support/axe.mjs';
import { launchChromium, watchForProblems } from './support/browser.mjs';
import { cliDll, outputFolder, repositoryRoot } from './support/paths.mjs';
import { assertPrerequisites } from './support/prerequisites.mjs';
import { startProduct } from './support/product.mjs';
import { demoLogin, signInAsDemoAdmin, signInWithTotp } from './support/session.mjs';

const standInDll = join(
  repositoryRoot, 'tests', 'Invisible.QuickBooksStandInHost', 'bin', 'Debug', 'net10.0', 'Invisible.QuickBooksStandInHost.dll',
);
/** The export runs on the worker after the decision and the card asks every 3 s; the upload itself may take a while. */
const exportTimeoutMs = 60_000;
const suffix = Date.now().toString(36).toUpperCase();
const vendorName = `Harbour Stationery ${suffix} Ltd`;
const vendorCode = `VQ-${suffix}`;
const poNumber = `PO-QB-${suffix}`;
const invoiceNumber = `QB-${suffix}`;

assertPrerequisites();
if (!existsSync(standInDll)) {
  throw new Error(
    `Cannot run the QuickBooks end-to-end test: ${relative(repositoryRoot, standInDll)} is missing ` +
      '(run: dotnet build tests/Invisible.QuickBooksStandInHost)',
  );
}

/** Starts the stand-in QuickBooks Online host and resolves with the JSON line it prints once it listens. */
async function startStandIn(logFile) {
  const log = createWriteStream(logFile);
  const host = spawn('dotnet', [standInDll, '--vendor', vendorName], { stdio: ['ignore', 'pipe', 'pipe'] });
  host.stderr.pipe(log);
  const exited = once(host, 'exit').then(([code, signal]) => {
    throw new Error(`the stand-in QuickBooks host exited (${code ?? signal}) before it was ready; see ${logFile}`);
  });
  const firstLine = once(createInterface({ input: host.stdout }), 'line').then(([line]) => JSON.parse(line));
  const tooLate = delay(30_000, undefined, { ref: false }).then(() => {
    throw new Error(`the stand-in QuickBooks host printed nothing within 30 s; see ${logFile}`);
  });
  let ready;
  try {
    ready = await Promise.race([firstLine, exited, tooLate]);
  } catch (error) {
    host.kill('SIGKILL');
    throw error;
  }
  exited.catch(() => {});
  tooLate.catch(() => {});
  return {
    ...ready,
    stop: async () => {
      if (host.exitCode === null && host.signalCode === null) {
        host.kill('SIGTERM');
        await once(host, 'exit');
      }
      log.end();
    },
  };
}

describe('QuickBooks export in the browser', () => {
  let standIn;
  let product;
  let browser;
  let page;
  let problems;
  let credentials;

  before(async () => {
    await mkdir(outputFolder, { recursive: true });
    standIn = await startStandIn(join(outputFolder, 'quickbooks-stand-in.log'));
    product = await startProduct({ logFile: join(outputFolder, 'quickbooks-server.log'), env: standIn.productEnvironment });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    problems = await watchForProblems(page);
    credentials = await signInAsDemoAdmin(page, product);
  });

  after(async () => {
    await browser?.close();
    await product?.stop();
    await standIn?.stop();
  });

  async function upload(tab, filePath, kind) {
    await tab.locator('input[type=file]').setInputFiles(filePath);
    await tab.getByLabel('What the file contains').selectOption({ label: kind });
    await tab.getByRole('button', { name: 'Upload', exact: true }).click();
    await tab
      .getByTestId('import-result')
      .getByRole('heading', { name: new RegExp(`^${basename(filePath).replace('.', '\\.')} `) })
      .waitFor({ timeout: 60_000 });
  }

  /** An operator connects the demo tenant's QuickBooks company from the command line (refresh token on stdin). */
  async function connectQuickBooks() {
    const { tenantSlug } = await demoLogin(product);
    const connect = execFile(
      'dotnet',
      [cliDll, 'quickbooks', 'connect', '--data-dir', product.dataDir, '--tenant', tenantSlug, '--realm', standIn.realm, '--expense-account', '1'],
      { env: { ...process.env, ...standIn.productEnvironment } },
    );
    let output = '';
    connect.stdout.on('data', (chunk) => (output += chunk));
    connect.stderr.on('data', (chunk) => (output += chunk));
    connect.stdin.end(`${standIn.refreshToken}\n`);
    const [code] = await once(connect, 'exit');
    assert.equal(code, 0, `invisible quickbooks connect: ${output}`);
  }

  async function billsInStandIn() {
    const response = await fetch(`${standIn.inspectUrl}/companies/${standIn.realm}/Bill`);
    assert.equal(response.status, 200, 'the stand-in host answers what its company holds');
    return (await response.json()).filter((bill) => bill.DocNumber === invoiceNumber);
  }

  test('a matched invoice becomes a Bill on its open page without a click', async () => {
    await connectQuickBooks();

    // The vendor, its purchase order and the invoice, but not yet the goods: the invoice waits for its receipt.
    const vendors = join(outputFolder, `quickbooks-vendors-${suffix}.csv`);
    const orders = join(outputFolder, `quickbooks-purchase-orders-${suffix}.csv`);
    const invoices = join(outputFolder, `quickbooks-invoices-${suffix}.csv`);
    const receipts = join(outputFolder, `quickbooks-receipts-${suffix}.csv`);
    await writeFile(vendors, `vendor_code,name,payment_terms\n${vendorCode},${vendorName},NET30\n`);
    await writeFile(
      orders,
      'po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price\n' +
        `${poNumber},${vendorCode},2026-01-05,GBP,1,P-A4,Paper A4,10,10.00\n`,
    );
    await writeFile(
      invoices,
      'invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total\n' +
        `${invoiceNumber},${vendorName},2026-01-12,GBP,${poNumber},1,P-A4,Paper A4,10,10.00,100.00,100.00\n`,
    );
    await writeFile(receipts, `receipt_number,po_number,po_line_no,received_date,quantity_received\nGR-${suffix},${poNumber},1,2026-01-10,10\n`);
    await page.goto(`${product.httpUrl}/imports`);
    await upload(page, vendors, 'Vendors');
    await upload(page, orders, 'Purchase orders');
    await upload(page, invoices, 'Invoices');

    // The clerk opens the invoice; its card says it is not exportable yet.
    await page.goto(`${product.httpUrl}/invoices?q=${invoiceNumber}`);
    await page.getByTestId('invoice-table').getByRole('link', { name: invoiceNumber, exact: true }).click();
    const card = page.getByTestId('quickbooks-export');
    await card.getByText('Exported as a Bill once the invoice is matched or approved.').waitFor({ timeout: exportTimeoutMs });
    assert.deepEqual(await billsInStandIn(), [], 'no Bill while the goods have not arrived');

    let navigations = 0;
    let clicks = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    await page.exposeFunction('countClick', () => clicks++);
    await page.evaluate(() => document.addEventListener('click', () => window.countClick(), true));

    // The goods receipt arrives from elsewhere (a colleague's browser); nobody touches the invoice page.
    const elsewhere = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const colleague = await elsewhere.newPage();
    await signInWithTotp(colleague, product, credentials);
    await colleague.goto(`${product.httpUrl}/imports`);
    await upload(colleague, receipts, 'Receipts');
    await elsewhere.close();

    const exported = card.getByRole('status').filter({ hasText: /In QuickBooks as Bill \d+\./ });
    await exported.waitFor({ timeout: exportTimeoutMs });
    const billId = /Bill (\d+)\./.exec(await exported.innerText())[1];
    await page.screenshot({ path: join(outputFolder, 'quickbooks-bill.png'), fullPage: true });

    const bills = await billsInStandIn();
    assert.deepEqual(
      { navigations, clicks, bills: bills.map((bill) => ({ id: bill.Id, total: bill.TotalAmt })) },
      { navigations: 0, clicks: 0, bills: [{ id: billId, total: 100 }] },
      'the open page showed the one Bill the stand-in holds, without a click or a reload',
    );
    assert.equal(
      await card.getByRole('link', { name: 'Open it in QuickBooks' }).getAttribute('href'),
      `https://app.qbo.intuit.com/app/bill?txnId=${billId}`,
    );
    assert.deepEqual(await seriousAccessibilityViolations(page), [], 'axe on the invoice page with its QuickBooks card');
  });

  test('had no console error, uncaught exception or CSP violation', () => {
    assert.deepEqual(problems, []);
  });
});
