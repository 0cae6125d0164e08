import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { createRouterTransport } from '@connectrpc/connect';

import {
  InvoiceSort,
  InvoiceStatus,
  MatchingService,
  type ListInvoicesRequest,
} from '../../gen/invisible/matching/v1/matching_pb';
import { EventFeed, until } from '../live/event-feed.testing';
import { LIVE_BACKOFF } from '../live/live-events';
import { GRPC_TRANSPORT } from '../rpc/transport';
import { Invoices } from './invoices';

@Component({ template: '' })
class Detail {}

describe('Invoices page', () => {
  let requests: ListInvoicesRequest[];
  let harness: RouterTestingHarness;

  beforeEach(async () => {
    requests = [];
    const feed = new EventFeed();
    const transport = createRouterTransport((router) => {
      feed.register(router);
      router.service(MatchingService, {
        listInvoices: (request) => {
          requests.push(request);
          return {
            invoices: [
              {
                invoiceId: 'i-1',
                invoiceNumber: '292',
                printedVendorName: 'Atlas',
                currency: 'USD',
                invoiceTotal: '4891.04',
                status: InvoiceStatus.EXCEPTION,
                poNumber: 'PO-10046',
              },
            ],
            totalCount: 1,
            nextPageToken: request.pageToken === '' ? 'page-2' : '',
          };
        },
      });
    });
    TestBed.configureTestingModule({
      providers: [
        provideRouter([
          { path: 'invoices', component: Invoices },
          { path: 'invoices/:invoiceId', component: Detail },
        ]),
        { provide: GRPC_TRANSPORT, useValue: transport },
        { provide: LIVE_BACKOFF, useValue: { initialMs: 1, maxMs: 4 } },
      ],
    });
    harness = await RouterTestingHarness.create();
  });

  const element = () => harness.routeNativeElement as HTMLElement;
  const settle = (condition: () => boolean, what: string) =>
    until(() => {
      harness.detectChanges();
      return condition();
    }, what);

  it('asks the server for what the URL says and shows the page with its status chip and money', async () => {
    await harness.navigateByUrl('/invoices?status=exception&q=292&sort=total&desc=1');
    await settle(() => element().querySelector('[data-testid=invoice-table]') !== null, 'the list');

    expect(requests.at(-1)).toMatchObject({
      status: InvoiceStatus.EXCEPTION,
      query: '292',
      sort: InvoiceSort.TOTAL,
      descending: true,
      pageToken: '',
    });
    const cells = Array.from(element().querySelectorAll('tbody td')).map((cell) =>
      cell.textContent!.replace(/\s+/g, ' ').trim(),
    );
    expect(cells).toEqual(['292', 'Atlas', 'PO-10046', '', '$4,891.04', 'Exception']);
    expect(element().querySelector('th[aria-sort="descending"]')!.textContent).toContain('Total');
  });

  it('keeps filters, sort and page in the URL', async () => {
    await harness.navigateByUrl('/invoices');
    await settle(() => element().querySelector('[data-testid=invoice-table]') !== null, 'the list');
    const router = TestBed.inject(Router);

    const search = element().querySelector<HTMLInputElement>('input[name=q]')!;
    search.value = 'Atlas';
    element().querySelector<HTMLFormElement>('form')!.requestSubmit();
    await settle(() => router.url === '/invoices?q=Atlas', 'the filter in the URL');

    Array.from(element().querySelectorAll<HTMLButtonElement>('button.sort'))
      .find((button) => button.textContent!.includes('Vendor'))!
      .click();
    await settle(() => router.url === '/invoices?q=Atlas&sort=vendor', 'the sort in the URL');

    Array.from(element().querySelectorAll('button'))
      .find((button) => button.textContent === 'Next page')!
      .click();
    await settle(() => router.url === '/invoices?q=Atlas&sort=vendor&page=page-2', 'the page in the URL');
    await settle(() => requests.at(-1)?.pageToken === 'page-2', 'the second page');
    expect(requests.at(-1)).toMatchObject({ query: 'Atlas', sort: InvoiceSort.VENDOR, pageToken: 'page-2' });
  });
});
