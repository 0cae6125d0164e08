import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';

import {
  type DismissDuplicateRequest,
  type DuplicateCluster,
  DuplicateClusterSchema,
  type MergeVendorsRequest,
  type UnmergeVendorRequest,
  VendorMergeSchema,
  VendorService,
} from '../../gen/invisible/vendors/v1/vendors_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { VendorDetailPage } from './vendor-detail';
import { VendorDuplicates } from './vendor-duplicates';

/** What the stand-in of our VendorService was asked, and the clusters it still answers with. */
interface Calls {
  merges: MergeVendorsRequest[];
  dismissals: DismissDuplicateRequest[];
  unmerges: UnmergeVendorRequest[];
  clusters: DuplicateCluster[];
}

const acme = () =>
  create(DuplicateClusterSchema, {
    clusterId: 'V1',
    confidence: 0.912,
    vendors: [
      { vendorCode: 'V1', name: 'Acme Supplies Ltd', taxId: 'GB123456789' },
      { vendorCode: 'V4', name: 'ACME SUPPLIES LIMITED', taxId: 'GB123456789' },
    ],
    pairs: [
      {
        firstVendorCode: 'V1',
        secondVendorCode: 'V4',
        probability: 0.912,
        evidence: ['the same tax id', 'shared words: acme, supplies'],
      },
    ],
  });

/** An in-test stand-in of our VendorService: clusters, merge, dismiss, and V1's page with one merge into it. */
function vendorService(calls: Calls) {
  return (router: ConnectRouter) =>
    router.service(VendorService, {
      listDuplicateClusters: () => ({ clusters: calls.clusters }),
      mergeVendors: (request) => {
        calls.merges.push(request);
        calls.clusters = [];
        return create(VendorMergeSchema, {
          mergeId: 'm-1',
          survivorCode: request.survivorCode,
          mergedCodes: request.mergedCodes,
          movedInvoices: 3,
          movedPurchaseOrders: 1,
          reevaluatedInvoices: 2,
        });
      },
      dismissDuplicate: (request) => {
        calls.dismissals.push(request);
        calls.clusters = [];
        return {};
      },
      unmergeVendor: (request) => {
        calls.unmerges.push(request);
        return create(VendorMergeSchema, { mergeId: request.mergeId, unmergedBy: 'user:1' });
      },
      getVendor: () => ({
        vendor: { vendorCode: 'V1', name: 'Acme Supplies Ltd' },
        aliases: [
          {
            kind: 'name',
            value: 'ACME SUPPLIES LIMITED',
            source: 'reviewer',
            decision: 'merge',
            createdBy: 'user:7',
          },
          {
            kind: 'name',
            value: 'Acme Sup. Nederland',
            source: 'reviewer',
            decision: 'assign_vendor',
            createdBy: 'user:9',
            invoiceId: 'inv-42',
          },
          { kind: 'name', value: 'Acme (UK)', source: 'import' },
        ],
        merges: calls.unmerges.length
          ? [{ mergeId: 'm-1', mergedCodes: ['V4'], mergedBy: 'user:7', unmergedBy: 'user:1' }]
          : [{ mergeId: 'm-1', mergedCodes: ['V4'], mergedBy: 'user:7', movedInvoices: 3 }],
      }),
    });
}

describe('vendor duplicates and merges', () => {
  let calls: Calls;

  async function signedIn(role: string): Promise<void> {
    calls = { merges: [], dismissals: [], unmerges: [], clusters: [acme()] };
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    auth.role = role;
    TestBed.configureTestingModule({
      providers: [
        provideRouter([{ path: 'vendors/:code', component: VendorDetailPage }]),
        ...provideSessionAgainst(auth, undefined, vendorService(calls)),
      ],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
  }

  function button(page: HTMLElement, text: string): HTMLButtonElement | undefined {
    return Array.from(page.querySelectorAll('button')).find((candidate) =>
      candidate.textContent?.trim().startsWith(text),
    );
  }

  it('shows each cluster side by side with its confidence and evidence, and merges into the chosen vendor', async () => {
    await signedIn('clerk');
    const fixture = TestBed.createComponent(VendorDuplicates);
    const page = await renderUntil(
      fixture,
      (shown) => shown.querySelector('table[aria-label="Side by side"]') !== null,
    );

    expect(page.textContent).toContain('confidence 91 %');
    expect(page.textContent).toContain('the same tax id');
    expect(page.querySelector('table[aria-label="Side by side"]')!.textContent).toContain(
      'ACME SUPPLIES LIMITED',
    );
    const keepV4 = Array.from(page.querySelectorAll<HTMLInputElement>('input[type="radio"]'))[1];
    keepV4.checked = true;
    keepV4.dispatchEvent(new Event('change'));
    await renderUntil(fixture, (shown) => button(shown, 'Merge into V4') !== undefined);
    button(page, 'Merge into V4')!.click();

    await renderUntil(fixture, (shown) => shown.querySelector('[role="status"]') !== null);
    expect(calls.merges).toEqual([expect.objectContaining({ survivorCode: 'V4', mergedCodes: ['V1'] })]);
    expect(page.querySelector('[role="status"]')!.textContent).toContain('V1 merged into V4: 3 invoice(s)');
    expect(page.textContent).toContain('No possible duplicates');
  });

  it('dismisses a pair so it stops showing, and offers an auditor neither merge nor dismiss', async () => {
    await signedIn('clerk');
    const fixture = TestBed.createComponent(VendorDuplicates);
    const page = await renderUntil(fixture, (shown) => button(shown, 'Not the same company') !== undefined);

    button(page, 'Not the same company')!.click();
    await renderUntil(fixture, (shown) => shown.textContent!.includes('No possible duplicates'));
    expect(calls.dismissals).toEqual([
      expect.objectContaining({ firstVendorCode: 'V1', secondVendorCode: 'V4' }),
    ]);

    TestBed.resetTestingModule();
    await signedIn('auditor');
    const auditorFixture = TestBed.createComponent(VendorDuplicates);
    const auditorPage = await renderUntil(
      auditorFixture,
      (shown) => shown.querySelector('table[aria-label="Side by side"]') !== null,
    );
    expect([button(auditorPage, 'Merge into'), button(auditorPage, 'Not the same company')]).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('says where each alias came from with the invoice it was confirmed on, and undoes a merge from the survivor’s page', async () => {
    await signedIn('clerk');
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/vendors/V1');
    const page = await renderUntil(harness.fixture, (shown) => button(shown, 'Unmerge V4') !== undefined);

    const aliases = page.querySelector('table[aria-label="Aliases"] tbody')!;
    expect(aliases.textContent).toContain('Merged vendor');
    expect(aliases.textContent).toContain('Vendor assigned to an invoice');
    expect(aliases.textContent).toContain('Seen on an import');
    expect(aliases.querySelector('a')?.getAttribute('href')).toBe('/invoices/inv-42');

    button(page, 'Unmerge V4')!.click();
    await renderUntil(harness.fixture, (shown) => shown.textContent!.includes('Undone by user:1'));
    expect(calls.unmerges).toEqual([expect.objectContaining({ mergeId: 'm-1' })]);
  });
});
