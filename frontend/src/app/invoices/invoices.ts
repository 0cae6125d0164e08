import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';
import { auditTime } from 'rxjs';

import {
  InvoiceSort,
  type InvoiceSummary,
  MatchingService,
} from '../../gen/invisible/matching/v1/matching_pb';
import { LiveEvents, topics } from '../live/live-events';
import { injectClient } from '../rpc/transport';
import { EmptyState } from '../shared/empty-state';
import { ErrorBanner, errorMessage } from '../shared/error-banner';
import { MoneyPipe } from '../shared/money';
import { PageTokens } from '../shared/page-tokens';
import { Pager } from '../shared/pager';
import { invoiceStatuses, invoiceStatusLabels, StatusChip } from '../shared/status';
import { type InvoiceQuery, invoiceQueryParams, readInvoiceQuery } from './invoice-query';

export const invoicePageSize = 25;

const sortableColumns: readonly { sort: InvoiceSort; label: string; numeric?: boolean }[] = [
  { sort: InvoiceSort.INVOICE_NUMBER, label: 'Invoice' },
  { sort: InvoiceSort.VENDOR, label: 'Vendor' },
  { sort: InvoiceSort.INVOICE_DATE, label: 'Date' },
  { sort: InvoiceSort.TOTAL, label: 'Total', numeric: true },
];

const countFormat = new Intl.NumberFormat();

@Component({
  selector: 'app-invoices',
  imports: [EmptyState, ErrorBanner, MoneyPipe, Pager, RouterLink, StatusChip],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './invoices.html',
  styleUrls: ['../shared/workspace.css', './invoices.css'],
})
export class Invoices {
  private readonly matching = injectClient(MatchingService);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  private readonly pages = new PageTokens();

  protected readonly statuses = invoiceStatuses;
  protected readonly statusLabels = invoiceStatusLabels;
  protected readonly columns = sortableColumns;

  protected readonly query = toSignal(this.route.queryParamMap, { requireSync: true });
  protected readonly filters = computed(() => readInvoiceQuery(this.query()));

  protected readonly invoices = signal<readonly InvoiceSummary[]>([]);
  protected readonly totalCount = signal(0);
  protected readonly nextPageToken = signal('');
  protected readonly loading = signal(true);
  protected readonly error = signal<string | undefined>(undefined);
  protected readonly pageNumber = signal(1);
  protected readonly hasPrevious = signal(false);

  protected readonly range = computed(() => {
    const first = (this.pageNumber() - 1) * invoicePageSize + 1;
    const last = first + this.invoices().length - 1;
    if (this.invoices().length === 0) return '';
    const shown = `${countFormat.format(first)}–${countFormat.format(last)}`;
    // A server that does not count (total_count 0) still gets a sensible line.
    return this.totalCount() >= last ? `${shown} of ${countFormat.format(this.totalCount())}` : shown;
  });

  protected readonly filtered = computed(() => {
    const filters = this.filters();
    return filters.status !== 0 || filters.vendor !== '' || filters.query !== '';
  });

  private generation = 0;
  private lastFilterKey = '';

  constructor() {
    const routeSubscription = this.route.queryParamMap.subscribe(() => void this.load());
    // Another user's action or a reconcile run changes statuses: refresh the page on screen.
    const liveSubscription = inject(LiveEvents)
      .on(topics.exceptionsChanged, topics.reconciled, topics.importsImported, topics.fileImported)
      .pipe(auditTime(500))
      .subscribe(() => void this.load());
    inject(DestroyRef).onDestroy(() => {
      routeSubscription.unsubscribe();
      liveSubscription.unsubscribe();
    });
  }

  private async load(): Promise<void> {
    const filters = this.filters();
    const filterKey = JSON.stringify({ ...invoiceQueryParams(filters), page: null });
    if (filterKey !== this.lastFilterKey || filters.page === '') {
      // A new filter or sort starts again at the first page.
      this.pages.reset();
      this.lastFilterKey = filterKey;
    }
    if (filters.page !== this.pages.current) {
      this.pages.current = filters.page;
    }
    const generation = ++this.generation;
    this.loading.set(true);
    try {
      const response = await this.matching.listInvoices({
        status: filters.status,
        vendorCode: filters.vendor.trim(),
        query: filters.query.trim(),
        sort: filters.sort,
        descending: filters.descending,
        pageSize: invoicePageSize,
        pageToken: filters.page,
      });
      if (generation !== this.generation) return;
      this.invoices.set(response.invoices);
      this.totalCount.set(response.totalCount);
      this.nextPageToken.set(response.nextPageToken);
      this.error.set(undefined);
    } catch (failure) {
      if (generation !== this.generation) return;
      this.error.set(errorMessage(failure));
    } finally {
      if (generation === this.generation) {
        this.loading.set(false);
        this.pageNumber.set(this.pages.pageNumber);
        this.hasPrevious.set(this.pages.hasPrevious || filters.page !== '');
      }
    }
  }

  protected reload(): void {
    void this.load();
  }

  private navigate(query: InvoiceQuery): void {
    void this.router.navigate([], { relativeTo: this.route, queryParams: invoiceQueryParams(query) });
  }

  protected applyFilters(event: Event, form: HTMLFormElement): void {
    event.preventDefault();
    const data = new FormData(form);
    this.navigate({
      ...this.filters(),
      status: Number(data.get('status') ?? 0),
      vendor: String(data.get('vendor') ?? ''),
      query: String(data.get('q') ?? ''),
      page: '',
    });
  }

  protected clearFilters(): void {
    this.navigate({ ...this.filters(), status: 0, vendor: '', query: '', page: '' });
  }

  protected sortBy(sort: InvoiceSort): void {
    const current = this.filters();
    const descending = current.sort === sort ? !current.descending : false;
    this.navigate({ ...current, sort, descending, page: '' });
  }

  protected ariaSort(sort: InvoiceSort): 'ascending' | 'descending' | 'none' {
    const current = this.filters();
    return current.sort !== sort ? 'none' : current.descending ? 'descending' : 'ascending';
  }

  protected nextPage(): void {
    const token = this.pages.next(this.nextPageToken());
    this.navigate({ ...this.filters(), page: token });
  }

  protected previousPage(): void {
    const token = this.pages.hasPrevious ? this.pages.back() : '';
    this.navigate({ ...this.filters(), page: token });
  }
}
