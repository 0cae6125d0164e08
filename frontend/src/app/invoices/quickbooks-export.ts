import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  effect,
  inject,
  input,
  signal,
} from '@angular/core';
import { RouterLink } from '@angular/router';

import { InvoiceStatus } from '../../gen/invisible/matching/v1/matching_pb';
import {
  type Connection,
  type Export,
  QuickBooksService,
} from '../../gen/invisible/quickbooks/v1/quickbooks_pb';
import { injectClient } from '../rpc/transport';
import { RpcAction } from '../shared/rpc-action';

/** How often a page whose invoice is still on its way to QuickBooks asks again (the export runs on the worker). */
export const EXPORT_POLL_MS = 3000;

/** What the card says: one of the export states, or why there is none yet. */
export type ExportView =
  | { kind: 'not-connected' }
  | { kind: 'not-exportable' }
  | { kind: 'pending' }
  | { kind: 'waiting'; reason: string; needsMapping: boolean }
  | { kind: 'exported'; link: string; qboId: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'differs'; reason: string; link: string };

/** The card's state from the connection, the invoice's status and its export (if any). Pure, for the spec. */
export function exportView(
  connection: Connection | undefined,
  status: InvoiceStatus | undefined,
  item: Export | undefined,
): ExportView {
  if (item) {
    switch (item.state) {
      case 'exported':
        return { kind: 'exported', link: item.link, qboId: item.qboId };
      case 'failed':
        return { kind: 'failed', reason: item.reason };
      case 'differs':
        return { kind: 'differs', reason: item.reason, link: item.link };
      default:
        return {
          kind: 'waiting',
          reason: item.reason || 'Queued for the next export run.',
          needsMapping: /^(Map this vendor|Choose the default)/.test(item.reason),
        };
    }
  }
  if (!connection || connection.status !== 'connected') {
    return { kind: 'not-connected' };
  }
  return status === InvoiceStatus.MATCHED || status === InvoiceStatus.APPROVED
    ? { kind: 'pending' }
    : { kind: 'not-exportable' };
}

/**
 * The invoice page's QuickBooks card: waiting (and why: "map this vendor"), in QuickBooks with a link to the Bill, failed
 * with QuickBooks' reason and a Retry, or "differs in QuickBooks" with what differs. Asks again every few seconds while
 * the export is on its way, so a clerk sees a matched invoice become a Bill without touching it.
 */
@Component({
  selector: 'app-quickbooks-export',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../shared/workspace.css'],
  template: `
    <section class="card" aria-labelledby="quickbooks-export-heading" data-testid="quickbooks-export">
      <h2 id="quickbooks-export-heading">QuickBooks</h2>
      @switch (view().kind) {
        @case ('not-connected') {
          <p class="muted">
            QuickBooks is not connected; an admin connects it in
            <a routerLink="/settings/quickbooks">Settings → QuickBooks</a>.
          </p>
        }
        @case ('not-exportable') {
          <p class="muted">Exported as a Bill once the invoice is matched or approved.</p>
        }
        @case ('pending') {
          <p role="status">Waiting: on its way to QuickBooks as a Bill.</p>
        }
        @case ('waiting') {
          <p role="status">Waiting: {{ reason() }}</p>
          @if (needsMapping()) {
            <p><a routerLink="/settings/quickbooks">Map it in Settings → QuickBooks</a></p>
          }
        }
        @case ('exported') {
          <p role="status">
            In QuickBooks as Bill {{ qboId() }}.
            <a [href]="link()" target="_blank" rel="noopener">Open it in QuickBooks</a>
          </p>
        }
        @case ('failed') {
          <p class="alert" role="alert">Failed: {{ reason() }}</p>
          <button class="button" type="button" [disabled]="retrying.busy()" (click)="retry()">Retry</button>
          @if (retrying.error(); as message) {
            <p class="alert" role="alert">{{ message }}</p>
          }
        }
        @case ('differs') {
          <p class="alert" role="alert">{{ reason() }}</p>
          <p class="muted">
            Correct the Bill in QuickBooks (or this invoice) until they agree; the next change check clears
            the flag.
            @if (link()) {
              <a [href]="link()" target="_blank" rel="noopener">Open it in QuickBooks</a>
            }
          </p>
        }
      }
    </section>
  `,
})
export class QuickBooksExportCard {
  private readonly quickbooks = injectClient(QuickBooksService);

  readonly invoiceId = input.required<string>();
  readonly status = input<InvoiceStatus | undefined>(undefined);

  private readonly connection = signal<Connection | undefined>(undefined);
  private readonly item = signal<Export | undefined>(undefined);
  protected readonly retrying = new RpcAction();

  protected readonly view = computed(() => exportView(this.connection(), this.status(), this.item()));
  protected readonly reason = computed(() => {
    const view = this.view();
    return 'reason' in view ? view.reason : '';
  });
  protected readonly link = computed(() => {
    const view = this.view();
    return 'link' in view ? view.link : '';
  });
  protected readonly qboId = computed(() => {
    const view = this.view();
    return view.kind === 'exported' ? view.qboId : '';
  });
  protected readonly needsMapping = computed(() => {
    const view = this.view();
    return view.kind === 'waiting' && view.needsMapping;
  });

  constructor() {
    // Reload when the invoice or its status changes (a decision arrives by live event on the page).
    effect(() => {
      this.invoiceId();
      this.status();
      void this.load();
    });
    const timer = setInterval(() => {
      const kind = this.view().kind;
      if (kind === 'pending' || kind === 'waiting') {
        void this.load();
      }
    }, EXPORT_POLL_MS);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }

  protected async retry(): Promise<void> {
    await this.retrying.run(async () => {
      this.item.set(await this.quickbooks.retryExport({ invoiceId: this.invoiceId() }));
    });
  }

  private async load(): Promise<void> {
    // A failed look-up leaves the card as it was: the invoice page is about the invoice, QuickBooks is a side note.
    try {
      const [connection, exports] = await Promise.all([
        this.quickbooks.getConnection({}),
        this.quickbooks.listExports({ invoiceId: this.invoiceId(), pageSize: 1 }),
      ]);
      this.connection.set(connection);
      this.item.set(exports.exports[0]);
    } catch {
      return;
    }
  }
}
