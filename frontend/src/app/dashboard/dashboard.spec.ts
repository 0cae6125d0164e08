import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { createRouterTransport } from '@connectrpc/connect';

import { InvoiceStatus, MatchingService } from '../../gen/invisible/matching/v1/matching_pb';
import { EventFeed, until } from '../live/event-feed.testing';
import { LIVE_BACKOFF } from '../live/live-events';
import { GRPC_TRANSPORT } from '../rpc/transport';
import { Dashboard } from './dashboard';

describe('Dashboard', () => {
  it('shows the counters and reloads them when the server says they changed', async () => {
    const feed = new EventFeed();
    let matched = 8;
    let calls = 0;
    const transport = createRouterTransport((router) => {
      feed.register(router);
      router.service(MatchingService, {
        getDashboard: () => {
          calls++;
          return {
            invoiceCount: 10,
            touchlessRate: matched / 10,
            invoicesByStatus: [
              { status: InvoiceStatus.MATCHED, invoices: matched },
              { status: InvoiceStatus.EXCEPTION, invoices: 10 - matched },
            ],
            exceptionsByReason: [{ reason: 'price_variance', exceptions: 10 - matched }],
            amountHeld: [{ currency: 'EUR', amount: '1500.2500' }],
            importsToday: 4,
            toKeyCount: 3,
          };
        },
      });
    });
    TestBed.configureTestingModule({
      imports: [Dashboard],
      providers: [
        provideRouter([]),
        { provide: GRPC_TRANSPORT, useValue: transport },
        { provide: LIVE_BACKOFF, useValue: { initialMs: 1, maxMs: 4 } },
      ],
    });
    // The charts are a @defer block: their component is resolved before the page can be created.
    await TestBed.compileComponents();
    const fixture = TestBed.createComponent(Dashboard);
    const kpi = (name: string) =>
      (fixture.nativeElement as HTMLElement).querySelector(`[data-kpi="${name}"]`)?.textContent?.trim();
    const settle = (condition: () => boolean, what: string) =>
      until(() => {
        fixture.detectChanges();
        return condition();
      }, what);

    await settle(() => kpi('invoices') === '10', 'the first load');
    expect(kpi('touchless')).toBe('80%');
    expect(kpi('exceptions')).toBe('2');
    expect(kpi('imports-today')).toBe('4');
    expect(kpi('to-key')).toBe('3');
    expect(kpi('amount-held')).toContain('1,500.25');

    await until(() => feed.open === 1, 'the Watch stream');
    matched = 9;
    feed.publish('dashboard.changed');
    await settle(() => kpi('touchless') === '90%', 'the live reload');
    expect(kpi('exceptions')).toBe('1');
    expect(calls).toBe(2);
  });
});
