import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';

import { InvoiceStatus } from '../../gen/invisible/matching/v1/matching_pb';
import {
  ConnectionSchema,
  type Export,
  ExportSchema,
  QuickBooksService,
} from '../../gen/invisible/quickbooks/v1/quickbooks_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { exportView, QuickBooksExportCard } from './quickbooks-export';

const connected = create(ConnectionSchema, { status: 'connected', companyName: 'Acme Books Ltd' });

/** In-test stand-in of our QuickBooksService: one connected company and the export of invoice inv-1 (if any). */
class QuickBooksServer {
  retried: string[] = [];
  constructor(public item: Export | undefined) {}

  routes = (router: ConnectRouter): void => {
    router.service(QuickBooksService, {
      getConnection: () => connected,
      listExports: (request) => ({
        exports: this.item && request.invoiceId === this.item.invoiceId ? [this.item] : [],
      }),
      retryExport: (request) => {
        this.retried.push(request.invoiceId);
        this.item = create(ExportSchema, {
          invoiceId: request.invoiceId,
          state: 'exported',
          qboId: '146',
          link: 'https://app.qbo.intuit.com/app/bill?txnId=146',
        });
        return this.item;
      },
    });
  };
}

async function render(backend: QuickBooksServer, status = InvoiceStatus.MATCHED) {
  const auth = new AuthServerStandIn();
  auth.tenantRequiresMfa = false;
  auth.role = 'approver';
  TestBed.configureTestingModule({
    providers: [provideRouter([]), ...provideSessionAgainst(auth, undefined, backend.routes)],
  });
  await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
  const fixture = TestBed.createComponent(QuickBooksExportCard);
  fixture.componentRef.setInput('invoiceId', 'inv-1');
  fixture.componentRef.setInput('status', status);
  return fixture;
}

describe('QuickBooks export on the invoice page', () => {
  it('says why an invoice waits, and sends the user to the mapping when a vendor is not mapped', () => {
    const waiting = create(ExportSchema, {
      state: 'waiting',
      reason: 'Map this vendor: no QuickBooks vendor has the tax id or the name of V1 Acme.',
    });

    expect(exportView(connected, InvoiceStatus.MATCHED, waiting)).toEqual({
      kind: 'waiting',
      reason: 'Map this vendor: no QuickBooks vendor has the tax id or the name of V1 Acme.',
      needsMapping: true,
    });
    expect(exportView(connected, InvoiceStatus.EXCEPTION, undefined).kind).toBe('not-exportable');
    expect(
      exportView(create(ConnectionSchema, { status: 'none' }), InvoiceStatus.MATCHED, undefined).kind,
    ).toBe('not-connected');
  });

  it('links an exported invoice to its Bill in QuickBooks', async () => {
    const backend = new QuickBooksServer(
      create(ExportSchema, {
        invoiceId: 'inv-1',
        state: 'exported',
        qboId: '145',
        link: 'https://app.sandbox.qbo.intuit.com/app/bill?txnId=145',
      }),
    );
    const page = await renderUntil(
      await render(backend),
      (shown) => shown.querySelector('a[href*="txnId"]') !== null,
    );

    expect(page.textContent).toContain('In QuickBooks as Bill 145');
    expect(page.querySelector('a[href*="txnId"]')!.getAttribute('href')).toBe(
      'https://app.sandbox.qbo.intuit.com/app/bill?txnId=145',
    );
  });

  it('shows what differs in QuickBooks', async () => {
    const backend = new QuickBooksServer(
      create(ExportSchema, {
        invoiceId: 'inv-1',
        state: 'differs',
        reason: 'Differs in QuickBooks: total: sent 100.00, QuickBooks has 90.00',
      }),
    );
    const page = await renderUntil(await render(backend), (shown) =>
      shown.textContent!.includes('Differs in QuickBooks'),
    );

    expect(page.textContent).toContain('total: sent 100.00, QuickBooks has 90.00');
  });

  it('shows a failed export with the reason and retries it', async () => {
    const backend = new QuickBooksServer(
      create(ExportSchema, {
        invoiceId: 'inv-1',
        state: 'failed',
        reason: 'QuickBooks ValidationFault 6000: closed period',
      }),
    );
    const fixture = await render(backend);
    const page = await renderUntil(fixture, (shown) =>
      shown.textContent!.includes('Failed: QuickBooks ValidationFault 6000'),
    );

    Array.from(page.querySelectorAll('button'))
      .find((button) => button.textContent?.trim() === 'Retry')!
      .click();
    await renderUntil(fixture, (shown) => shown.textContent!.includes('In QuickBooks as Bill 146'));

    expect(backend.retried).toEqual(['inv-1']);
  });
});
