import { DestroyRef, inject, Injectable, signal } from '@angular/core';
import { auditTime } from 'rxjs';

import {
  BulkActionKind,
  type BulkActionResult,
  ExceptionService,
  ExceptionSort,
  ExceptionState,
  type ExceptionItem,
  type RematchCandidate,
} from '../../gen/invisible/exceptions/v1/exceptions_pb';
import { LiveEvents, topics } from '../live/live-events';
import { injectClient } from '../rpc/transport';
import { errorMessage } from '../shared/error-banner';

export interface QueueFilters {
  readonly reason: string;
  readonly vendor: string;
  /** '' anyone, 'me' the caller. */
  readonly assignee: string;
  readonly minAgeDays: number;
  readonly minAmount: string;
  readonly maxAmount: string;
  readonly sort: ExceptionSort;
}

export const noFilters: QueueFilters = {
  reason: '',
  vendor: '',
  assignee: '',
  minAgeDays: 0,
  minAmount: '',
  maxAmount: '',
  sort: ExceptionSort.OLDEST,
};

export const queuePageSize = 50;

/** Items that have left the queue (resolved, dismissed) are not shown in it. */
export function isOpen(item: ExceptionItem): boolean {
  return item.state === ExceptionState.OPEN || item.state === ExceptionState.IN_REVIEW;
}

export interface BulkOutcome {
  readonly succeeded: number;
  readonly failed: readonly BulkActionResult[];
}

/**
 * The exception queue's state and actions (ExceptionService). The list reloads when `exceptions.changed` arrives, so
 * an item another user approved leaves everyone's queue; after one's own action the item is updated at once from the
 * answer, before the reload confirms it. Provided by the page.
 */
@Injectable()
export class ExceptionQueue {
  private readonly client = injectClient(ExceptionService);

  readonly filters = signal<QueueFilters>(noFilters);
  readonly items = signal<readonly ExceptionItem[]>([]);
  readonly totalCount = signal(0);
  readonly nextPageToken = signal('');
  readonly loading = signal(true);
  readonly error = signal<string | undefined>(undefined);
  /** Ids of the items ticked for a bulk action. */
  readonly selected = signal<ReadonlySet<string>>(new Set());
  /** Announced politely when the list changed because of someone else. */
  readonly liveNotice = signal('');

  private generation = 0;

  constructor() {
    const subscription = inject(LiveEvents)
      .on(topics.exceptionsChanged)
      .pipe(auditTime(250))
      .subscribe(() => void this.load({ announce: true }));
    inject(DestroyRef).onDestroy(() => subscription.unsubscribe());
  }

  setFilters(filters: QueueFilters): void {
    this.filters.set(filters);
    this.selected.set(new Set());
    void this.load();
  }

  async load(options: { announce?: boolean; more?: boolean } = {}): Promise<void> {
    const generation = ++this.generation;
    const filters = this.filters();
    this.loading.set(true);
    try {
      const response = await this.client.listExceptions({
        reason: filters.reason,
        vendorCode: filters.vendor.trim(),
        assigneeId: filters.assignee,
        minAgeDays: filters.minAgeDays,
        minAmount: filters.minAmount.trim(),
        maxAmount: filters.maxAmount.trim(),
        sort: filters.sort,
        pageSize: queuePageSize,
        pageToken: options.more ? this.nextPageToken() : '',
      });
      if (generation !== this.generation) return;
      const before = this.items();
      const items = options.more ? [...before, ...response.items] : response.items;
      this.items.set(items.filter(isOpen));
      this.totalCount.set(response.totalCount);
      this.nextPageToken.set(response.nextPageToken);
      this.error.set(undefined);
      // Ticked items that left the queue can no longer be acted on.
      const ids = new Set(items.map((item) => item.id));
      this.selected.update((selected) => new Set([...selected].filter((id) => ids.has(id))));
      if (options.announce) {
        const gone = before.filter((item) => !ids.has(item.id)).length;
        this.liveNotice.set(
          gone > 0 ? `${gone} exception(s) left the queue after another action.` : 'The queue was updated.',
        );
      }
    } catch (failure) {
      if (generation === this.generation) this.error.set(errorMessage(failure));
    } finally {
      if (generation === this.generation) this.loading.set(false);
    }
  }

  toggle(id: string, on: boolean): void {
    this.selected.update((selected) => {
      const next = new Set(selected);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }

  toggleAll(on: boolean): void {
    this.selected.set(on ? new Set(this.items().map((item) => item.id)) : new Set());
  }

  assign(exceptionId: string, userId: string): Promise<ExceptionItem> {
    return this.apply(this.client.assignException({ exceptionId, userId }));
  }

  approve(exceptionId: string, reason: string): Promise<ExceptionItem> {
    return this.apply(this.client.approveException({ exceptionId, reason }));
  }

  reject(exceptionId: string, reason: string): Promise<ExceptionItem> {
    return this.apply(this.client.rejectException({ exceptionId, reason }));
  }

  markNotDuplicate(exceptionId: string, reason: string): Promise<ExceptionItem> {
    return this.apply(this.client.markNotDuplicate({ exceptionId, reason }));
  }

  rematch(exceptionId: string, poNumber: string, reason: string): Promise<ExceptionItem> {
    return this.apply(this.client.rematchException({ exceptionId, poNumber, reason, lines: [] }));
  }

  /** One exception with where its approval stands (who approved, who still has to). */
  detail(exceptionId: string): Promise<ExceptionItem> {
    return this.client.getException({ exceptionId });
  }

  /** Ranked best first (the server's order is kept; ties broken by score just in case). */
  async candidates(exceptionId: string): Promise<readonly RematchCandidate[]> {
    const response = await this.client.listRematchCandidates({ exceptionId });
    return [...response.candidates].sort((a, b) => b.score - a.score);
  }

  async bulk(action: BulkActionKind, reason: string, userId = ''): Promise<BulkOutcome> {
    const exceptionIds = [...this.selected()];
    const response = await this.client.bulkAction({ exceptionIds, action, reason, userId });
    const failed = response.results.filter((result) => !result.ok);
    this.selected.set(new Set(failed.map((result) => result.exceptionId)));
    await this.load();
    return { succeeded: response.results.length - failed.length, failed };
  }

  /** Applies the answer of a single-item action to the list: resolved items leave it, others are updated. */
  private async apply(call: Promise<ExceptionItem>): Promise<ExceptionItem> {
    const item = await call;
    this.items.update((items) =>
      isOpen(item)
        ? items.map((existing) => (existing.id === item.id ? item : existing))
        : items.filter((existing) => existing.id !== item.id),
    );
    if (!isOpen(item)) {
      this.toggle(item.id, false);
      this.totalCount.update((total) => Math.max(0, total - 1));
    }
    return item;
  }
}

export { BulkActionKind };
