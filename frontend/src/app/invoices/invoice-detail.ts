import { ChangeDetectionStrategy, Component, DestroyRef, inject, signal } from '@angular/core';
import { ActivatedRoute, RouterLink } from '@angular/router';
import { auditTime } from 'rxjs';

import { type InvoiceDetail, MatchingService } from '../../gen/invisible/matching/v1/matching_pb';
import { LiveEvents, topics } from '../live/live-events';
import { injectClient } from '../rpc/transport';
import { formatTimestamp } from '../shared/dates';
import { ErrorBanner, errorMessage } from '../shared/error-banner';
import { MoneyPipe, QuantityPipe } from '../shared/money';
import { StatusChip } from '../shared/status';
import { QuickBooksExportCard } from './quickbooks-export';
import { lineVariances } from './three-way';

/** One invoice with its current decision: the 3-way view (PO line | received | invoiced) and the engine's reasons. */
@Component({
  selector: 'app-invoice-detail',
  imports: [ErrorBanner, MoneyPipe, QuantityPipe, QuickBooksExportCard, RouterLink, StatusChip],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './invoice-detail.html',
  styleUrls: ['../shared/workspace.css', './invoice-detail.css'],
})
export class InvoiceDetailPage {
  private readonly matching = injectClient(MatchingService);
  private readonly route = inject(ActivatedRoute);

  protected readonly detail = signal<InvoiceDetail | undefined>(undefined);
  protected readonly error = signal<string | undefined>(undefined);
  protected readonly loading = signal(true);
  protected readonly variances = lineVariances;
  protected readonly formatTimestamp = formatTimestamp;

  private invoiceId = '';

  constructor() {
    const params = this.route.paramMap.subscribe((map) => {
      this.invoiceId = map.get('invoiceId') ?? '';
      this.detail.set(undefined);
      void this.load();
    });
    // A decision on this invoice by someone else (approve, re-match) shows up without a reload.
    const live = inject(LiveEvents)
      .on(topics.exceptionsChanged, topics.reconciled)
      .pipe(auditTime(500))
      .subscribe(() => void this.load());
    inject(DestroyRef).onDestroy(() => {
      params.unsubscribe();
      live.unsubscribe();
    });
  }

  protected async load(): Promise<void> {
    this.loading.set(true);
    try {
      this.detail.set(await this.matching.getInvoice({ invoiceId: this.invoiceId }));
      this.error.set(undefined);
    } catch (failure) {
      this.error.set(errorMessage(failure));
    } finally {
      this.loading.set(false);
    }
  }
}
