import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter } from '@connectrpc/connect';

import {
  AuditEntrySchema,
  AuditService,
  type ListAuditEntriesRequest,
} from '../../gen/invisible/audit/v1/audit_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { Audit, toFilter } from './audit';

const entries = Array.from({ length: 60 }, (_, index) =>
  create(AuditEntrySchema, {
    seq: BigInt(60 - index),
    actor: index % 2 === 0 ? 'user:admin' : 'user:clerk',
    action: index % 3 === 0 ? 'exception.approved' : 'import.completed',
    entity: 'invoice',
    entityId: `INV-${index}`,
    afterJson: index === 0 ? '{"status":"approved"}' : '',
  }),
);

/** An in-test stand-in of our AuditService: newest first, actor and action-prefix filters, offset page tokens. */
function auditService(requests: ListAuditEntriesRequest[], chainOk: { value: boolean }) {
  return (router: ConnectRouter) =>
    router.service(AuditService, {
      listAuditEntries: (request) => {
        requests.push(request);
        const filter = request.filter;
        const matching = entries.filter(
          (entry) =>
            (!filter?.actor || entry.actor === filter.actor) &&
            (!filter?.action || entry.action.startsWith(filter.action)),
        );
        const offset = Number(request.pageToken || '0');
        const end = offset + request.pageSize;
        return {
          entries: matching.slice(offset, end),
          nextPageToken: end < matching.length ? String(end) : '',
        };
      },
      exportAuditLog: () => ({ csv: new TextEncoder().encode('seq,actor\n60,user:admin\n'), rowCount: 1 }),
      verifyAuditChain: () =>
        chainOk.value
          ? { ok: true, entriesChecked: 60n }
          : { ok: false, entriesChecked: 60n, firstBadSeq: 42n },
    });
}

describe('Audit log', () => {
  let requests: ListAuditEntriesRequest[];
  const chainOk = { value: true };

  async function render(role = 'auditor') {
    requests = [];
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    auth.role = role;
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        ...provideSessionAgainst(auth, undefined, auditService(requests, chainOk)),
      ],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(Audit);
    const page = await renderUntil(fixture, (shown) => shown.querySelector('table') !== null);
    return { fixture, page };
  }

  function button(page: HTMLElement, text: string): HTMLButtonElement {
    return Array.from(page.querySelectorAll('button')).find(
      (candidate) => candidate.textContent?.trim() === text,
    )!;
  }

  it('shows the newest entries first, 50 a page, with before/after on demand', async () => {
    const { fixture, page } = await render();

    expect(page.querySelectorAll('tbody tr')).toHaveLength(50);
    expect(page.querySelector('tbody td')?.textContent).toBe('60');
    expect(page.querySelector('tbody details pre')?.textContent).toBe('{"status":"approved"}');

    button(page, 'Older entries').click();
    await renderUntil(fixture, (shown) => shown.querySelectorAll('tbody tr').length === 10);
    expect(requests.map((request) => request.pageToken)).toEqual(['', '50']);
  });

  it('filters from the first page', async () => {
    const { fixture, page } = await render();
    const action = page.querySelector<HTMLInputElement>('#audit-action')!;
    action.value = 'exception.';
    action.dispatchEvent(new Event('input'));

    page.querySelector('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, (shown) => shown.querySelectorAll('tbody tr').length === 20);

    expect(requests.at(-1)?.filter?.action).toBe('exception.');
    expect(requests.at(-1)?.pageToken).toBe('');
  });

  it('sends whole days: "to" is inclusive, so the filter ends at the start of the next day', () => {
    const filter = toFilter({
      actor: ' user:admin ',
      action: '',
      entity: '',
      entityId: '',
      from: '2026-03-01',
      to: '2026-03-31',
    });

    expect(filter.actor).toBe('user:admin');
    expect(timestampDate(filter.from!).getTime()).toBe(new Date(2026, 2, 1).getTime());
    expect(timestampDate(filter.to!).getTime()).toBe(new Date(2026, 3, 1).getTime());
  });

  it('exports the filtered log as a CSV download', async () => {
    const { fixture, page } = await render();
    const blobs: Blob[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
      blobs.push(blob as Blob);
      return 'blob:audit';
    });
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);

    button(page, 'Export CSV').click();
    await renderUntil(fixture, (shown) => shown.textContent!.includes('Exported 1 entry as CSV.'));

    expect(await blobs[0].text()).toBe('seq,actor\n60,user:admin\n');
  });

  it('verifies the chain and names the first broken entry', async () => {
    const { fixture, page } = await render();

    button(page, 'Verify the chain').click();
    await renderUntil(fixture, (shown) =>
      shown.textContent!.includes('The chain is intact: 60 entries checked'),
    );

    chainOk.value = false;
    button(page, 'Verify the chain').click();
    await renderUntil(fixture, (shown) => shown.textContent!.includes('The chain is broken at entry 42'));
    chainOk.value = true;
  });
});
