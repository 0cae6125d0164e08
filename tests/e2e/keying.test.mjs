// A plain PDF e-mailed to the tenant (SMTP, with swaks) becomes a "to key" item; a clerk keys it against a purchase order
// in the SPA, and the invoice list open in another tab shows it matched without a reload. Without keying there is no
// queue, no form and no invoice, so every step below fails.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { seriousAccessibilityViolations } from './support/axe.mjs';
import { launchChromium, watchForProblems } from './support/browser.mjs';
import { outputFolder } from './support/paths.mjs';
import { assertPrerequisites } from './support/prerequisites.mjs';
import { startProduct } from './support/product.mjs';
import { demoLogin, signInAsDemoAdmin, signInWithTotp } from './support/session.mjs';

const run = promisify(execFile);
const liveTimeoutMs = 30_000;
const suffix = Date.now().toString(36).toUpperCase();
const vendorCode = `VK-${suffix}`;
const poNumber = `PO-KEY-${suffix}`;
const invoiceNumber = `KEYED-${suffix}`;

/** A one-page PDF with printed text only (no embedded invoice XML): what a scanner or word processor sends. */
function printedOnlyPdf(text) {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const stream = `BT /F1 14 Tf 50 780 Td (${text}) Tj ET`;
  objects[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((body, index) => {
    const offset = pdf.length;
    pdf += `${index + 1} 0 obj\n${body}\nendobj\n`;
    return offset;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

assertPrerequisites();

describe('keying a PDF received by e-mail', () => {
  let product;
  let browser;
  let context;
  let page;
  let problems;
  let credentials;

  before(async () => {
    await mkdir(outputFolder, { recursive: true });
    product = await startProduct({ logFile: join(outputFolder, 'keying-server.log') });
    assert.ok(product.smtp, 'endpoints.json names the SMTP intake listener');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    problems = await watchForProblems(page);
    credentials = await signInAsDemoAdmin(page, product);
  });

  after(async () => {
    await browser?.close();
    await product?.stop();
  });

  async function upload(filePath, kind) {
    await page.locator('input[type=file]').setInputFiles(filePath);
    await page.getByLabel('What the file contains').selectOption({ label: kind });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page
      .getByTestId('import-result')
      .getByRole('heading', { name: new RegExp(`^${basename(filePath).replace('.', '\\.')} `) })
      .waitFor({ timeout: 60_000 });
  }

  test('a plain PDF e-mailed to the tenant is keyed against a PO and shows matched without a reload', async () => {
    // A vendor, its purchase order and the goods received, so that the keyed invoice can match.
    const vendors = join(outputFolder, `keying-vendors-${suffix}.csv`);
    const orders = join(outputFolder, `keying-purchase-orders-${suffix}.csv`);
    const receipts = join(outputFolder, `keying-receipts-${suffix}.csv`);
    await writeFile(vendors, `vendor_code,name,email,currency\n${vendorCode},Keyed Supplies Ltd,ap@keyed-supplies.example,EUR\n`);
    await writeFile(
      orders,
      'po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price\n' +
        `${poNumber},${vendorCode},2026-01-05,EUR,1,P-A4,Paper A4,10,10.00\n${poNumber},${vendorCode},2026-01-05,EUR,2,T-26A,Toner 26A,4,80.00\n`,
    );
    await writeFile(
      receipts,
      `receipt_number,po_number,po_line_no,received_date,quantity_received\nGR-${suffix},${poNumber},1,2026-01-10,10\nGR-${suffix},${poNumber},2,2026-01-10,4\n`,
    );
    await page.goto(`${product.httpUrl}/imports`);
    await upload(vendors, 'Vendors');
    await upload(orders, 'Purchase orders');
    await upload(receipts, 'Receipts');

    // The vendor e-mails a scan: trusted because its address is in the vendor master.
    const { tenantSlug } = await demoLogin(product);
    const pdf = join(outputFolder, `keying-scan-${suffix}.pdf`);
    await writeFile(pdf, printedOnlyPdf(`Invoice ${invoiceNumber} for ${poNumber}`));
    const [host, port] = product.smtp.split(':');
    await run('swaks', [
      '--server', host, '--port', port, '--from', 'ap@keyed-supplies.example', '--to', `${tenantSlug}@invoices.localhost`,
      '--header', `Subject: Invoice ${invoiceNumber}`, '--body', 'Our invoice is attached.',
      '--attach-type', 'application/pdf', '--attach-name', 'scan.pdf', '--attach', `@${pdf}`,
    ]);

    // A second browser watches the invoice list; it must show the keyed invoice decided without being reloaded.
    const second = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const watcher = await second.newPage();
    await signInWithTotp(watcher, product, credentials);
    await watcher.goto(`${product.httpUrl}/invoices?q=${invoiceNumber}`);
    await watcher.getByRole('searchbox', { name: 'Search' }).waitFor();

    await page.goto(`${product.httpUrl}/dashboard`);
    const toKey = page.locator('[data-kpi="to-key"] a');
    await toKey.waitFor();
    assert.ok(Number((await toKey.innerText()).trim()) >= 1, 'the dashboard counts the PDF to key');
    await toKey.click();
    const item = page.getByTestId('to-key-item').filter({ hasText: `Invoice ${invoiceNumber}` });
    await item.waitFor({ timeout: liveTimeoutMs });
    await page.screenshot({ path: join(outputFolder, 'keying-queue.png'), fullPage: true });
    assert.deepEqual(await seriousAccessibilityViolations(page), [], 'axe on the to-key queue');
    await item.getByRole('link').click();

    // The PDF beside the form, served by our origin into a frame.
    const frame = page.getByTestId('keying-pdf');
    await frame.waitFor();
    const pdfResponse = await page.request.get(new URL(await frame.getAttribute('src'), product.httpUrl).href);
    assert.equal(pdfResponse.headers()['content-type'], 'application/pdf');
    assert.match(pdfResponse.headers()['content-security-policy'], /frame-ancestors 'self'/);
    assert.equal(await page.getByLabel('Vendor (as printed)').inputValue(), 'Keyed Supplies Ltd', 'the vendor guessed from the sender');

    await page.getByLabel('Invoice number').fill(invoiceNumber);
    await page.getByLabel('Invoice date').fill('2026-01-12');
    await page.getByLabel('PO number').fill(poNumber);
    await page.getByRole('button', { name: 'Show its open lines' }).click();
    await page.getByRole('button', { name: `Add all lines of ${poNumber}` }).click();
    // A total that does not add up is refused with the reason beside the total.
    await page.getByLabel('Invoice total').fill('400.00');
    await page.getByRole('button', { name: 'Store the invoice' }).click();
    await page.locator('[data-field="invoice_total"]').filter({ hasText: 'add up to 420.00' }).waitFor();
    await page.screenshot({ path: join(outputFolder, 'keying-form.png'), fullPage: true });
    assert.deepEqual(await seriousAccessibilityViolations(page), [], 'axe on the keying screen');

    await page.getByRole('button', { name: /^Use lines \+ tax/ }).click();
    await page.getByRole('button', { name: 'Store the invoice' }).click();
    await page.getByTestId('keyed').waitFor();

    const row = watcher.getByTestId('invoice-table').getByRole('row').filter({ hasText: invoiceNumber });
    await row.filter({ hasText: 'Matched' }).waitFor({ timeout: liveTimeoutMs });
    await watcher.screenshot({ path: join(outputFolder, 'keying-matched.png'), fullPage: true });
    assert.deepEqual(problems, [], 'no console error, uncaught exception or CSP violation');
  });
});
