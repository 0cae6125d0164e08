import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect';

import { AuthService } from '../../gen/invisible/auth/v1/auth_pb';
import {
  DocumentKind,
  ImportOutcome,
  ImportSchema,
  ImportService,
  ImportStatus,
} from '../../gen/invisible/imports/v1/imports_pb';
import { EventFeed, until } from '../live/event-feed.testing';
import { LIVE_BACKOFF } from '../live/live-events';
import { GRPC_TRANSPORT } from '../rpc/transport';
import { guessKind, Imports } from './imports';

describe('guessKind', () => {
  it.each([
    ['vendors.csv', DocumentKind.VENDORS],
    ['purchase_orders.csv', DocumentKind.PURCHASE_ORDERS],
    ['receipts.csv', DocumentKind.RECEIPTS],
    ['invoices.csv', DocumentKind.INVOICES],
    ['INV-2026-17.xml', DocumentKind.INVOICES],
    ['RE-0815.pdf', DocumentKind.INVOICES],
    ['export.csv', undefined],
  ])('%s → %s', (name, kind) => expect(guessKind(name)).toBe(kind));
});

describe('Imports page', () => {
  let fixture: ComponentFixture<Imports>;
  let downloads: string[];
  const rejected = create(ImportSchema, {
    id: 'imp-2',
    importNo: 2n,
    fileName: 'invoices.csv',
    status: ImportStatus.REJECTED,
    errorCount: 101,
  });

  beforeEach(async () => {
    downloads = [];
    const feed = new EventFeed();
    const transport = createRouterTransport((router) => {
      feed.register(router);
      router.service(AuthService, { getSession: () => ({ userId: 'u1', role: 'clerk' }) });
      router.service(ImportService, {
        startUpload: () => ({ uploadId: 'u1', maxChunkBytes: 1024 }),
        uploadChunk: (request) => ({ receivedBytes: request.offset + BigInt(request.data.length) }),
        async *completeUpload() {
          yield {
            event: {
              case: 'result',
              value: {
                outcome: ImportOutcome.REJECTED,
                import: rejected,
                errors: [
                  { line: 2, column: 'quantity', value: 'abc', reason: 'not a number' },
                  { line: 3, column: 'invoice_date', value: '31/31/2026', reason: 'not a date' },
                ],
                unlistedErrorCount: 99n,
                errorCsvAvailable: true,
              },
            },
          };
          throw new ConnectError('101 row errors', Code.InvalidArgument);
        },
        listImports: () => ({ imports: [rejected] }),
        downloadErrors: (request) => {
          downloads.push(request.importId);
          return {
            fileName: 'invoices-errors.csv',
            contentType: 'text/csv',
            content: new TextEncoder().encode('line\n'),
          };
        },
      });
    });
    TestBed.configureTestingModule({
      providers: [
        { provide: GRPC_TRANSPORT, useValue: transport },
        { provide: LIVE_BACKOFF, useValue: { initialMs: 1, maxMs: 4 } },
        // The page links to its sibling (Imports → E-mail).
        provideRouter([]),
      ],
    });
    // jsdom has no object URLs; the download itself is the browser's business.
    URL.createObjectURL = () => 'blob:test';
    URL.revokeObjectURL = () => undefined;
    fixture = TestBed.createComponent(Imports);
    await settle(() => element().querySelector('[data-testid=import-history]') !== null);
  });

  const element = () => fixture.nativeElement as HTMLElement;
  const settle = (condition: () => boolean, what = 'the page') =>
    until(() => {
      fixture.detectChanges();
      return condition();
    }, what);

  it('uploads a chosen file and shows a rejected file’s row errors with the count of the unlisted ones', async () => {
    const input = element().querySelector<HTMLInputElement>('input[type=file]')!;
    Object.defineProperty(input, 'files', {
      value: [new File(['a,b\n1,2\n'], 'invoices.csv')],
      configurable: true,
    });
    input.dispatchEvent(new Event('change'));
    fixture.detectChanges();
    expect(element().querySelector<HTMLSelectElement>('#kind')!.value).toBe(String(DocumentKind.INVOICES));

    element().querySelector<HTMLButtonElement>('button.primary')!.click();
    await settle(() => element().querySelector('[data-testid=import-result]') !== null, 'the result');

    const result = element().querySelector('[data-testid=import-result]')!;
    expect(result.querySelector('h2')!.textContent).toBe('invoices.csv was rejected');
    expect(result.textContent).toContain('101 error(s) found');
    expect(
      Array.from(result.querySelectorAll('tbody tr')).map((row) =>
        Array.from(row.querySelectorAll('td')).map((cell) => cell.textContent!.trim()),
      ),
    ).toEqual([
      ['2', 'quantity', 'abc', 'not a number'],
      ['3', 'invoice_date', '31/31/2026', 'not a date'],
    ]);
    expect(result.textContent).toContain('99 more error(s) are not listed here');

    Array.from(result.querySelectorAll('button'))
      .find((button) => button.textContent!.includes('Download errors CSV'))!
      .click();
    await until(() => downloads.length === 1, 'the download');
    expect(downloads).toEqual(['imp-2']);
  });
});
