import { TestBed } from '@angular/core/testing';
import { ActivatedRoute, convertToParamMap, provideRouter } from '@angular/router';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';

import { BadRequestSchema } from '../../../gen/google/rpc/error_details_pb';
import { KeyingService, type SubmitKeyedInvoiceRequest } from '../../../gen/invisible/keying/v1/keying_pb';
import { VendorService } from '../../../gen/invisible/vendors/v1/vendors_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../../session/auth-server.testing';
import { SessionService } from '../../session/session';
import { renderUntil } from '../../shared/settle.testing';
import { Keying } from './keying';

const itemId = '0123456789abcdef0123456789abcdef-1';

/**
 * In-test stand-ins of our KeyingService (one PDF to key, PO-7 of V1 with two open lines; the first submission does not
 * add up) and VendorService (a search finds V2, and V3 merged into it).
 */
function keyingService(submitted: SubmitKeyedInvoiceRequest[]) {
  return (router: ConnectRouter) => {
    router.service(VendorService, {
      listVendors: () => ({
        vendors: [
          { vendorCode: 'V2', name: 'Bluewater Hardware Ltd' },
          { vendorCode: 'V3', name: 'Bluewater Hardware', mergedIntoCode: 'V2' },
        ],
        totalCount: 2,
      }),
    });
    router.service(KeyingService, {
      getToKeyItem: () => ({
        item: { itemId, fileName: 'scan.pdf', from: 'ap@acme.example', subject: 'Invoice', state: 'to_key' },
        pdfUrl: `/v1/keying/items/${itemId}/pdf?ticket=abc.def`,
        prefill: {
          vendorCode: 'V1',
          vendorName: 'Acme Supplies Ltd',
          currency: 'GBP',
          invoiceDate: '2026-01-12',
        },
      }),
      listOpenPurchaseOrderLines: () => ({
        poNumber: 'PO-7',
        vendorCode: 'V1',
        vendorName: 'Acme Supplies Ltd',
        currency: 'GBP',
        lines: [
          { lineNo: 1, sku: 'P-A4', description: 'Paper A4', quantity: '10.00', unitPrice: '10.00' },
          { lineNo: 2, sku: 'T-26A', description: 'Toner 26A', quantity: '4.00', unitPrice: '80.00' },
        ],
      }),
      submitKeyedInvoice: (request) => {
        submitted.push(request);
        if (submitted.length === 1) {
          throw new ConnectError('The keyed invoice is not valid.', Code.InvalidArgument, undefined, [
            {
              desc: BadRequestSchema,
              value: {
                fieldViolations: [
                  {
                    field: 'invoice_total',
                    description: 'the lines (420.00) and tax (0.00) add up to 420.00, not 400.00',
                  },
                ],
              },
            },
          ]);
        }
        return { item: { itemId, state: 'keyed' }, invoiceId: 'inv-1', importId: 'imp-1', importNo: 12n };
      },
    });
  };
}

function input(page: HTMLElement, selector: string, value: string): void {
  const element = page.querySelector<HTMLInputElement>(selector)!;
  element.value = value;
  element.dispatchEvent(new Event('input'));
}

function click(page: HTMLElement, text: string): void {
  Array.from(page.querySelectorAll('button'))
    .find((button) => button.textContent?.trim().startsWith(text))!
    .click();
}

describe('keying an invoice', () => {
  it('frames the PDF, fills lines from the PO, shows a violation beside its field and stores the corrected invoice', async () => {
    const submitted: SubmitKeyedInvoiceRequest[] = [];
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        { provide: ActivatedRoute, useValue: { snapshot: { paramMap: convertToParamMap({ itemId }) } } },
        ...provideSessionAgainst(auth, undefined, keyingService(submitted)),
      ],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(Keying);

    const page = await renderUntil(fixture, (shown) => shown.querySelector('#po-number') !== null);
    expect(page.querySelector('iframe')?.getAttribute('src')).toBe(
      `/v1/keying/items/${itemId}/pdf?ticket=abc.def`,
    );
    input(page, '#invoice-number', 'K-1');
    input(page, '#po-number', 'PO-7');
    click(page, 'Show its open lines');
    await renderUntil(fixture, (shown) => shown.querySelector('[data-testid="po-lines"]') !== null);
    click(page, 'Add all lines');
    input(page, '#invoice-total', '400.00');
    fixture.detectChanges();
    page.querySelector('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, (shown) => shown.querySelector('[data-field="invoice_total"]') !== null);
    expect(page.querySelector('[data-field="invoice_total"]')?.textContent).toContain('add up to 420.00');

    click(page, 'Use lines + tax');
    fixture.detectChanges();
    page.querySelector('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, (shown) => shown.querySelector('[data-testid="keyed"]') !== null);

    expect(submitted.at(-1)).toMatchObject({
      itemId,
      vendorName: 'Acme Supplies Ltd',
      invoiceNumber: 'K-1',
      poNumber: 'PO-7',
      invoiceTotal: '420.00',
      lines: [
        { sku: 'P-A4', quantity: '10.00', unitPrice: '10.00', amount: '100.00' },
        { sku: 'T-26A', quantity: '4.00', unitPrice: '80.00', amount: '320.00' },
      ],
      vendorCode: 'V1',
    });
  });

  it('shows the sender’s vendor, lets the clerk find and choose another, and sends the chosen vendor’s code', async () => {
    const submitted: SubmitKeyedInvoiceRequest[] = [];
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        { provide: ActivatedRoute, useValue: { snapshot: { paramMap: convertToParamMap({ itemId }) } } },
        ...provideSessionAgainst(auth, undefined, keyingService(submitted)),
      ],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(Keying);

    const page = await renderUntil(
      fixture,
      (shown) => shown.querySelector('[data-testid="chosen-vendor"]') !== null,
    );
    const fromSender = page.querySelector('[data-testid="chosen-vendor"]')?.textContent;
    input(page, '#vendor-query', 'bluewater');
    click(page, 'Find a vendor');
    await renderUntil(fixture, (shown) => shown.querySelector('[data-testid="vendor-matches"]') !== null);
    const choices = Array.from(page.querySelectorAll('[data-testid="vendor-matches"] button')).map((b) =>
      b.textContent?.trim(),
    );
    click(page, 'Choose V2');
    fixture.detectChanges();
    page.querySelector('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, () => submitted.length === 1);

    expect({ fromSender, choices, sent: submitted[0]?.vendorCode }).toEqual({
      fromSender: 'V1 — Acme Supplies Ltd',
      choices: ['Choose V2'],
      sent: 'V2',
    });
  });
});
