import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';

import {
  ConnectionSchema,
  ExportSchema,
  QuickBooksService,
  type RetryExportRequest,
} from '../../gen/invisible/quickbooks/v1/quickbooks_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { QuickBooksSettings } from './quickbooks';

/** In-test stand-in of our QuickBooksService: one connected company, one failed and one differing export. */
class QuickBooksServer {
  retries: RetryExportRequest[] = [];
  failed = [
    create(ExportSchema, {
      invoiceId: 'inv-1',
      invoiceNumber: 'A-1',
      state: 'failed',
      reason: 'QuickBooks ValidationFault 2500: Invalid Reference Id',
    }),
  ];
  differs = [
    create(ExportSchema, {
      invoiceId: 'inv-2',
      invoiceNumber: 'A-2',
      state: 'differs',
      reason: 'Differs in QuickBooks: total: sent 100.00, QuickBooks has 90.00',
      link: 'https://app.qbo.intuit.com/app/bill?txnId=7',
    }),
  ];

  routes = (router: ConnectRouter): void => {
    router.service(QuickBooksService, {
      getConnection: () =>
        create(ConnectionSchema, {
          status: 'connected',
          realmId: '9130',
          companyName: 'Acme Books Ltd',
          defaultExpenseAccountId: '7',
          defaultExpenseAccountName: 'Office Expenses',
          failedCount: this.failed.length,
          differsCount: 1,
          exportedCount: 12,
        }),
      listExports: (request) => ({ exports: request.state === 'failed' ? this.failed : this.differs }),
      retryExport: (request) => {
        this.retries.push(request);
        this.failed = [];
        return create(ExportSchema, { invoiceId: request.invoiceId, invoiceNumber: 'A-1', state: 'exported' });
      },
    });
  };
}

describe('QuickBooks settings', () => {
  async function render(role: string, backend: QuickBooksServer) {
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    auth.role = role;
    TestBed.configureTestingModule({
      providers: [provideRouter([]), ...provideSessionAgainst(auth, undefined, backend.routes)],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(QuickBooksSettings);
    const page = await renderUntil(fixture, (shown) => shown.querySelector('table') !== null);
    return { fixture, page };
  }

  it('shows the company and the exports that failed or differ, and retries a failed one', async () => {
    const backend = new QuickBooksServer();
    const { fixture, page } = await render('admin', backend);
    expect(page.textContent).toContain('Connected to Acme Books Ltd');
    expect(page.textContent).toContain('differs in QuickBooks');

    Array.from(page.querySelectorAll('button'))
      .find((button) => button.textContent?.trim() === 'Retry')!
      .click();
    await renderUntil(fixture, (shown) => shown.textContent!.includes('Invoice A-1: exported'));

    expect(backend.retries.map((request) => request.invoiceId)).toEqual(['inv-1']);
  });

  it('offers connecting and disconnecting to admins only', async () => {
    const { page } = await render('clerk', new QuickBooksServer());

    expect(page.textContent).not.toContain('Disconnect');
    expect(page.textContent).not.toContain('Connect another company');
  });
});
