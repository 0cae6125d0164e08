import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { ActivatedRoute, convertToParamMap, provideRouter } from '@angular/router';
import { of } from 'rxjs';
import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect';

import { AuthService } from '../../gen/invisible/auth/v1/auth_pb';
import {
  ExceptionItemSchema,
  ExceptionService,
  ExceptionState,
  type ExceptionItem,
} from '../../gen/invisible/exceptions/v1/exceptions_pb';
import { InvoiceSummarySchema } from '../../gen/invisible/matching/v1/matching_pb';
import { EventFeed, until } from '../live/event-feed.testing';
import { LIVE_BACKOFF } from '../live/live-events';
import { rpcInterceptors } from '../rpc/transport';
import { GRPC_TRANSPORT } from '../rpc/transport';
import { signedOut } from '../rpc/auth';
import { Exceptions } from './exceptions';

function item(id: string, invoiceNumber: string, reason = 'price_variance'): ExceptionItem {
  return create(ExceptionItemSchema, {
    id,
    invoiceId: `inv-${id}`,
    invoice: create(InvoiceSummarySchema, { invoiceNumber, currency: 'EUR', printedVendorName: 'Acme' }),
    reason,
    state: ExceptionState.OPEN,
    openedAt: timestampNow(),
    amountHeld: '1200.50',
  });
}

/**
 * An in-test stand-in for our ExceptionService over a list shared by "users": an approval resolves the item and
 * publishes `exceptions.changed` on the event feed, as the server does.
 */
function queueServer(role: string, feed: EventFeed) {
  const items = new Map(
    [item('e1', 'INV-1'), item('e2', 'INV-2', 'duplicate')].map((entry) => [entry.id, entry]),
  );
  const calls: { method: string; id: string; reason?: string }[] = [];
  const transport = createRouterTransport(
    (router) => {
      feed.register(router);
      router.service(AuthService, { getSession: () => ({ userId: 'me-1', role, email: 'a@example.com' }) });
      router.service(ExceptionService, {
        listExceptions: () => ({
          items: [...items.values()].filter((entry) => entry.state === ExceptionState.OPEN),
          totalCount: [...items.values()].filter((entry) => entry.state === ExceptionState.OPEN).length,
        }),
        approveException: (request) => {
          calls.push({ method: 'approve', id: request.exceptionId, reason: request.reason });
          if (role === 'clerk')
            throw new ConnectError(
              'Only approvers and admins can approve an exception.',
              Code.PermissionDenied,
            );
          const entry = items.get(request.exceptionId)!;
          entry.state = ExceptionState.RESOLVED;
          feed.publish('exceptions.changed', { exceptionId: entry.id });
          return entry;
        },
        assignException: (request) => {
          calls.push({ method: 'assign', id: request.exceptionId });
          const entry = items.get(request.exceptionId)!;
          entry.assigneeId = request.userId;
          entry.state = ExceptionState.IN_REVIEW;
          return entry;
        },
      });
    },
    { transport: { interceptors: rpcInterceptors(signedOut) } },
  );
  return { transport, items, calls };
}

describe('Exceptions page', () => {
  let feed: EventFeed;
  let fixture: ComponentFixture<Exceptions>;
  let server: ReturnType<typeof queueServer>;

  async function open(role: string, linkedItem?: string) {
    feed = new EventFeed();
    server = queueServer(role, feed);
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        ...(linkedItem === undefined
          ? []
          : [{ provide: ActivatedRoute, useValue: { queryParamMap: of(convertToParamMap({ item: linkedItem })) } }]),
        { provide: GRPC_TRANSPORT, useValue: server.transport },
        { provide: LIVE_BACKOFF, useValue: { initialMs: 1, maxMs: 4 } },
      ],
    });
    fixture = TestBed.createComponent(Exceptions);
    // The role arrives with the session: the row actions depend on it.
    await settle(() => rows().length > 0 && button(/^Reject invoice INV-1$/) !== undefined);
  }

  const element = () => fixture.nativeElement as HTMLElement;
  const rows = () =>
    Array.from(element().querySelectorAll('tbody tr')).map((row) => row.getAttribute('data-invoice'));
  const button = (name: RegExp) =>
    Array.from(element().querySelectorAll('button')).find((candidate) =>
      name.test((candidate.textContent ?? '').replace(/\s+/g, ' ').trim()),
    ) as HTMLButtonElement | undefined;

  async function settle(condition: () => boolean, what = 'the page') {
    await until(() => {
      fixture.detectChanges();
      return condition();
    }, what);
  }

  it('marks the item a notification links to', async () => {
    await open('approver', 'e2');

    const current = Array.from(element().querySelectorAll('tbody tr[aria-current=true]')).map((row) =>
      row.getAttribute('data-invoice'),
    );
    expect(current).toEqual(['INV-2']);
  });

  it('lets an approver approve with a reason; the item leaves the queue', async () => {
    await open('approver');
    expect(rows()).toEqual(['INV-1', 'INV-2']);

    button(/^Approve invoice INV-1$/)!.click();
    fixture.detectChanges();
    const reason = element().querySelector<HTMLTextAreaElement>('#action-reason')!;
    reason.value = 'Price agreed by phone with the buyer';
    element().querySelector<HTMLFormElement>('[data-testid=action-panel] form')!.requestSubmit();
    await settle(() => rows().length === 1, 'the approval');

    expect(server.calls).toEqual([
      { method: 'approve', id: 'e1', reason: 'Price agreed by phone with the buyer' },
    ]);
    expect(rows()).toEqual(['INV-2']);
    expect(element().querySelector('[data-testid=action-panel]')).toBeNull();
  });

  it('asks for a reason before approving', async () => {
    await open('admin');
    button(/^Approve invoice INV-1$/)!.click();
    fixture.detectChanges();
    // Blank but not empty: passes the field's `required`, not the page's own check.
    element().querySelector<HTMLTextAreaElement>('#action-reason')!.value = '   ';
    element().querySelector<HTMLFormElement>('[data-testid=action-panel] form')!.requestSubmit();
    await settle(() => element().textContent!.includes('Enter a reason'));

    expect(server.calls).toEqual([]);
  });

  it('offers a clerk no override (approve, re-match, not a duplicate), only reject', async () => {
    await open('clerk');

    expect(button(/^Approve/)).toBeUndefined();
    expect(button(/^Re-match/)).toBeUndefined();
    expect(button(/^Not a duplicate/)).toBeUndefined();
    expect(button(/^Reject invoice INV-1$/)).toBeDefined();
  });

  it('shows an approver "Not a duplicate" only for duplicates', async () => {
    await open('approver');

    expect(button(/^Not a duplicate invoice INV-2$/)).toBeDefined();
    expect(button(/^Not a duplicate invoice INV-1$/)).toBeUndefined();
  });

  it('updates live when another user resolves an item', async () => {
    await open('clerk');
    await until(() => feed.open === 1, 'the Watch stream');

    server.items.get('e2')!.state = ExceptionState.RESOLVED;
    feed.publish('exceptions.changed', { exceptionId: 'e2' });
    await settle(() => rows().length === 1, 'the live update');

    expect(rows()).toEqual(['INV-1']);
    expect(element().textContent).toContain('1 exception(s) left the queue after another action.');
  });

  it('assigns to the signed-in user', async () => {
    await open('clerk');
    button(/^Assign to me invoice INV-1$/)!.click();
    await settle(() => element().querySelector('tr[data-invoice="INV-1"]')!.textContent!.includes('You'));

    expect(server.items.get('e1')!.assigneeId).toBe('me-1');
  });
});
