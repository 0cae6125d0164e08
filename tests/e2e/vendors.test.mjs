// Vendor duplicates in the browser against the real product: two vendors of one company are imported into the demo
// tenant, shown side by side under Vendors → Possible duplicates with their evidence, merged into the one kept, and the
// merge is undone from the survivor's page.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { seriousAccessibilityViolations } from './support/axe.mjs';
import { launchChromium, watchForProblems } from './support/browser.mjs';
import { cliDll, outputFolder } from './support/paths.mjs';
import { assertPrerequisites } from './support/prerequisites.mjs';
import { startProduct } from './support/product.mjs';
import { demoLogin, signInAsDemoAdmin } from './support/session.mjs';

assertPrerequisites();

/** Runs the product's CLI on the running product's data directory (it attaches to the cluster `up` keeps running). */
function cli(product, ...args) {
  return new Promise((resolve, reject) => {
    const child = spawn('dotnet', [cliDll, ...args, '--data-dir', product.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`invisible ${args.join(' ')} exited ${code}:\n${output}`))));
  });
}

describe('vendor duplicates', () => {
  let product;
  let browser;
  let page;
  let problems;

  before(async () => {
    await mkdir(outputFolder, { recursive: true });
    product = await startProduct({ logFile: join(outputFolder, 'vendors-server.log'), demo: true });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    problems = await watchForProblems(page);
    await signInAsDemoAdmin(page, product);
    const { tenantSlug } = await demoLogin(product);
    const vendors = join(outputFolder, 'vendors-duplicates.csv');
    await writeFile(
      vendors,
      'vendor_code,name,tax_id\nZZ-DUP-A,Harbourline Marine Supplies Ltd,NL812345678B01\nZZ-DUP-B,HARBOURLINE MARINE SUPPLIES LIMITED,NL 8123.45.678.B01\n',
    );
    await cli(product, 'import', 'vendors', vendors, '--tenant', tenantSlug);
  });

  after(async () => {
    await browser?.close();
    await product?.stop();
  });

  test('two vendors of one company are merged side by side and the merge is undone', async () => {
    await page.goto(`${product.httpUrl}/vendors`);
    await page.getByRole('main').getByRole('link', { name: 'Possible duplicates' }).click();
    const cluster = page.getByRole('region', { name: 'Cluster ZZ-DUP-A' });
    await cluster.waitFor();
    await cluster.getByText('the same tax id').waitFor();
    await page.screenshot({ path: join(outputFolder, 'vendors-duplicates.png'), fullPage: true });
    assert.deepEqual(await seriousAccessibilityViolations(page), [], 'axe on Vendors → Possible duplicates');

    await cluster.getByLabel('Keep ZZ-DUP-B').check();
    await cluster.getByRole('button', { name: 'Merge into ZZ-DUP-B' }).click();
    await page.getByRole('status').filter({ hasText: 'ZZ-DUP-A merged into ZZ-DUP-B' }).waitFor();
    await cluster.waitFor({ state: 'detached' });

    await page.goto(`${product.httpUrl}/vendors/ZZ-DUP-B`);
    const main = page.getByRole('main');
    await main.getByRole('table', { name: 'Aliases' }).getByText('Merged vendor').waitFor();
    await main.getByRole('button', { name: 'Unmerge ZZ-DUP-A' }).click();
    await main.getByText(/Undone by/).waitFor();

    await page.goto(`${product.httpUrl}/vendors/ZZ-DUP-A`);
    await main.getByRole('heading', { level: 1, name: 'Harbourline Marine Supplies Ltd' }).waitFor();
    assert.equal(await main.getByText('Merged into').count(), 0, 'the unmerged vendor is a vendor of the master again');
  });

  test('had no console error, uncaught exception or CSP violation', () => {
    assert.deepEqual(problems, []);
  });
});
