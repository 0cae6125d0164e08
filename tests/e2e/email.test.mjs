// "Invisible by default" in the browser: with the invoice list open, a Factur-X PDF e-mailed to the tenant's intake
// address over SMTP (swaks, a real client) appears in the list already decided, without a reload. The list refreshes
// only when the live stream (EventService.Watch) tells it to, so a broken stream fails this test rather than being
// covered by a polling fallback.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { launchChromium, watchForProblems } from './support/browser.mjs';
import { ciiInvoice, facturXPdf } from './support/facturx.mjs';
import { outputFolder } from './support/paths.mjs';
import { assertPrerequisites } from './support/prerequisites.mjs';
import { startProduct } from './support/product.mjs';
import { demoLogin, signInAsDemoAdmin } from './support/session.mjs';

const swaks = '/usr/bin/swaks';
/** Well within a live update (the stream delivers in well under a second); far below any reload or polling period. */
const liveTimeoutMs = 20_000;

const invoice = {
  number: `FX-${Date.now().toString(36).toUpperCase()}`,
  issueDate: '2026-03-10',
  seller: 'Factur-X Supplies GmbH',
  sellerTaxId: 'DE811223344',
  currency: 'EUR',
  poNumber: 'PO-FX-0001',
  line: { sku: 'FX-WIDGET', description: 'Factur-X widget', quantity: 10, unitPrice: 12.5 },
};

/** The vendor, its purchase order and the goods receipt the e-mailed invoice matches (imported first, through the UI). */
const masterData = [
  {
    file: 'fx_vendors.csv',
    kind: 'Vendors',
    text: `vendor_code,name,tax_id,email,country,currency,payment_terms\nV-FX1,${invoice.seller},${invoice.sellerTaxId},billing@fx-supplies.example,DE,EUR,NET30\n`,
  },
  {
    file: 'fx_purchase_orders.csv',
    kind: 'Purchase orders',
    text: `po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price,receipt_required\n${invoice.poNumber},V-FX1,2026-03-01,EUR,1,${invoice.line.sku},${invoice.line.description},10,12.50,true\n`,
  },
  {
    file: 'fx_receipts.csv',
    kind: 'Receipts',
    text: `receipt_number,po_number,po_line_no,received_date,quantity_received\nGR-FX-0001,${invoice.poNumber},1,2026-03-05,10\n`,
  },
];

assertPrerequisites();

describe('an e-mailed Factur-X invoice', { skip: existsSync(swaks) ? false : `${swaks} is missing: apt-get install -y swaks` }, () => {
  let product;
  let browser;
  let page;
  let credentials;

  before(async () => {
    await mkdir(outputFolder, { recursive: true });
    product = await startProduct({ logFile: join(outputFolder, 'email-server.log'), demo: true });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await watchForProblems(page);
    credentials = await signInAsDemoAdmin(page, product);
  });

  after(async () => {
    await browser?.close();
    await product?.stop();
  });

  async function upload(filePath, kind) {
    const fileName = basename(filePath);
    await page.locator('input[type=file]').setInputFiles(filePath);
    await page.getByLabel('What the file contains').selectOption({ label: kind });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page
      .getByTestId('import-result')
      .getByRole('heading', { name: new RegExp(`^${fileName.replace('.', '\\.')} `) })
      .waitFor({ timeout: 60_000 });
    const heading = await page.getByTestId('import-result').getByRole('heading').innerText();
    assert.match(heading, /imported|was already imported/, `${fileName}: ${heading}`);
  }

  test('appears matched in the open invoice list without a reload', async () => {
    await page.goto(`${product.httpUrl}/imports`);
    await page.getByRole('heading', { level: 1, name: 'Imports' }).waitFor();
    for (const { file, kind, text } of masterData) {
      const path = join(outputFolder, file);
      await writeFile(path, text);
      await upload(path, kind);
    }

    await page.goto(`${product.httpUrl}/invoices?q=${encodeURIComponent(invoice.number)}`);
    await page.getByRole('heading', { level: 1, name: 'Invoices' }).waitFor();
    // Filtered by its number, the list is empty until the invoice arrives.
    await page.getByRole('heading', { name: 'No invoices match' }).waitFor();
    // A mark on this document: a reload (or a navigation) would lose it.
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    assert.equal(await page.locator('tbody tr').filter({ hasText: invoice.number }).count(), 0, 'not listed before it is sent');

    const endpoints = JSON.parse(await readFile(join(product.dataDir, 'endpoints.json'), 'utf8'));
    assert.ok(endpoints.smtp, `endpoints.json names the SMTP listener: ${JSON.stringify(endpoints)}`);
    const [host, port] = endpoints.smtp.split(':');
    const { tenantSlug } = await demoLogin(product);
    const pdf = join(outputFolder, `${invoice.number}.pdf`);
    await writeFile(pdf, facturXPdf(ciiInvoice(invoice), `Invoice ${invoice.number}`));
    const sent = await promisify(execFile)(swaks, [
      '--server', host, '--port', port,
      '--from', credentials.email, '--to', `${tenantSlug}@invoices.localhost`,
      '--header', `Subject: Invoice ${invoice.number}`, '--body', 'Please find our invoice attached.',
      '--attach-type', 'application/pdf', '--attach-name', `${invoice.number}.pdf`, '--attach', `@${pdf}`,
    ]);
    assert.match(sent.stdout, /<-\s+250 Received/, 'the listener accepted the message');

    const row = page.locator('tbody tr').filter({ hasText: invoice.number });
    await row.filter({ hasText: 'Matched' }).waitFor({ timeout: liveTimeoutMs });
    assert.equal(await page.evaluate(() => window.__sameDocument === true), true, 'the list was updated in place, not reloaded');
    await page.screenshot({ path: join(outputFolder, 'email-invoice-matched.png'), fullPage: true });
  });
});
