import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  ElementRef,
  inject,
  signal,
  viewChild,
} from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { ActivatedRoute, RouterLink } from '@angular/router';
import { map } from 'rxjs';

import {
  ExceptionSort,
  ExceptionState,
  type ExceptionItem,
  type RematchCandidate,
} from '../../gen/invisible/exceptions/v1/exceptions_pb';
import type { ApprovalProgress } from '../../gen/invisible/exceptions/v1/approvals_pb';
import { LiveBadge } from '../live/live-badge';
import { CurrentUser } from '../shared/current-user';
import { ageInDays } from '../shared/dates';
import { EmptyState } from '../shared/empty-state';
import { ErrorBanner, errorMessage } from '../shared/error-banner';
import { MoneyPipe } from '../shared/money';
import { exceptionReasonLabel, exceptionReasonLabels, StatusChip } from '../shared/status';
import { BulkActionKind, ExceptionQueue, noFilters, type QueueFilters } from './exception-queue';

type ActionKind = 'approve' | 'reject' | 'not-duplicate' | 'rematch' | 'bulk-approve' | 'bulk-reject';

interface PendingAction {
  readonly kind: ActionKind;
  /** The item acted on; none for bulk actions (they act on the selection). */
  readonly item?: ExceptionItem;
}

const actionTitles: Readonly<Record<ActionKind, string>> = {
  approve: 'Approve',
  reject: 'Reject',
  'not-duplicate': 'Not a duplicate',
  rematch: 'Re-match',
  'bulk-approve': 'Approve selected',
  'bulk-reject': 'Reject selected',
};

const sortOptions: readonly { sort: ExceptionSort; label: string }[] = [
  { sort: ExceptionSort.OLDEST, label: 'Oldest first' },
  { sort: ExceptionSort.NEWEST, label: 'Newest first' },
  { sort: ExceptionSort.AMOUNT_DESC, label: 'Largest amount first' },
];

const score = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 });

@Component({
  selector: 'app-exceptions',
  imports: [EmptyState, ErrorBanner, LiveBadge, MoneyPipe, RouterLink, StatusChip],
  providers: [ExceptionQueue],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './exceptions.html',
  styleUrls: ['../shared/workspace.css', './exceptions.css'],
})
export class Exceptions {
  protected readonly queue = inject(ExceptionQueue);
  protected readonly user = inject(CurrentUser);

  protected readonly reasons = Object.entries(exceptionReasonLabels).map(([value, label]) => ({
    value,
    label,
  }));
  protected readonly sortOptions = sortOptions;
  protected readonly reasonLabel = exceptionReasonLabel;
  protected readonly titles = actionTitles;

  protected readonly pending = signal<PendingAction | undefined>(undefined);
  protected readonly actionError = signal<string | undefined>(undefined);
  protected readonly working = signal(false);
  protected readonly candidates = signal<readonly RematchCandidate[] | undefined>(undefined);
  protected readonly candidatesError = signal<string | undefined>(undefined);
  /** The approval progress of the item the approve panel is about, read when the panel opens. */
  protected readonly progress = signal<ApprovalProgress | undefined>(undefined);
  protected readonly progressError = signal<string | undefined>(undefined);
  /** What the last action did, announced to screen readers. */
  protected readonly notice = signal('');

  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  private readonly reasonField = viewChild<ElementRef<HTMLTextAreaElement>>('reasonField');

  protected readonly allSelected = computed(
    () => this.queue.items().length > 0 && this.queue.selected().size === this.queue.items().length,
  );

  /** The item an e-mail or a notification links to (`/exceptions?item=…`): marked in the list and scrolled to. */
  protected readonly linkedItem = toSignal(
    inject(ActivatedRoute).queryParamMap.pipe(map((params) => params.get('item') ?? '')),
    { initialValue: '' },
  );

  constructor() {
    void this.user.load();
    void this.queue.load();
    effect(() => {
      const id = this.linkedItem();
      if (id !== '' && this.queue.items().some((item) => item.id === id)) {
        queueMicrotask(() =>
          Array.from(this.host.nativeElement.querySelectorAll('tr[data-exception-id]'))
            .find((row) => row.getAttribute('data-exception-id') === id)
            ?.scrollIntoView?.({ block: 'center' }),
        );
      }
    });
  }

  protected age(item: ExceptionItem): string {
    const days = ageInDays(item.openedAt);
    return days === undefined ? '—' : days === 1 ? '1 day' : `${days} days`;
  }

  protected stateLabel(item: ExceptionItem): string {
    return item.state === ExceptionState.IN_REVIEW ? 'In review' : 'Open';
  }

  protected score(candidate: RematchCandidate): string {
    return score.format(candidate.score);
  }

  protected isMine(item: ExceptionItem): boolean {
    return item.assigneeId !== '' && item.assigneeId === this.user.userId();
  }

  protected applyFilters(event: Event, form: HTMLFormElement): void {
    event.preventDefault();
    const data = new FormData(form);
    const filters: QueueFilters = {
      reason: String(data.get('reason') ?? ''),
      vendor: String(data.get('vendor') ?? ''),
      assignee: String(data.get('assignee') ?? ''),
      minAgeDays: Math.max(0, Math.trunc(Number(data.get('minAge') ?? 0)) || 0),
      minAmount: String(data.get('minAmount') ?? ''),
      maxAmount: String(data.get('maxAmount') ?? ''),
      sort: Number(data.get('sort') ?? ExceptionSort.OLDEST) as ExceptionSort,
    };
    this.queue.setFilters(filters);
  }

  protected clearFilters(form: HTMLFormElement): void {
    form.reset();
    this.queue.setFilters(noFilters);
  }

  protected async assignToMe(item: ExceptionItem): Promise<void> {
    await this.run(async () => {
      const userId = this.user.userId() || (await this.user.load())?.userId || '';
      await this.queue.assign(item.id, userId);
      this.notice.set(`Invoice ${item.invoice?.invoiceNumber ?? ''} is assigned to you.`);
    });
  }

  protected async bulkAssignToMe(): Promise<void> {
    await this.run(async () => {
      const userId = this.user.userId() || (await this.user.load())?.userId || '';
      const outcome = await this.queue.bulk(BulkActionKind.ASSIGN, '', userId);
      this.notice.set(this.describeBulk('assigned to you', outcome.succeeded, outcome.failed.length));
      this.showBulkFailures(outcome.failed.map((failure) => failure.error));
    });
  }

  protected open(kind: ActionKind, item?: ExceptionItem): void {
    this.pending.set({ kind, item });
    this.actionError.set(undefined);
    this.candidates.set(undefined);
    this.candidatesError.set(undefined);
    this.progress.set(undefined);
    this.progressError.set(undefined);
    if (kind === 'approve' && item) {
      this.queue.detail(item.id).then(
        (detail) => this.progress.set(detail.approval),
        (failure: unknown) => this.progressError.set(errorMessage(failure)),
      );
    }
    if (kind === 'rematch' && item) {
      this.queue.candidates(item.id).then(
        (candidates) => this.candidates.set(candidates),
        (failure: unknown) => this.candidatesError.set(errorMessage(failure)),
      );
    }
    // Move focus into the panel so keyboard users continue there.
    setTimeout(() => this.reasonField()?.nativeElement.focus());
  }

  protected close(): void {
    this.pending.set(undefined);
  }

  protected async confirm(event: Event, form: HTMLFormElement): Promise<void> {
    event.preventDefault();
    const action = this.pending();
    if (action === undefined) return;
    const data = new FormData(form);
    const reason = String(data.get('reason') ?? '').trim();
    if (reason === '') {
      this.actionError.set('Enter a reason: it is recorded in the audit log.');
      return;
    }
    const invoice = action.item?.invoice?.invoiceNumber ?? '';
    await this.run(async () => {
      switch (action.kind) {
        case 'approve': {
          const after = await this.queue.approve(action.item!.id, reason);
          this.notice.set(
            after.approval && after.approval.remaining > 0
              ? `Your approval of invoice ${invoice} is recorded. ${after.approval.summary}.`
              : `Invoice ${invoice} approved.`,
          );
          break;
        }
        case 'reject':
          await this.queue.reject(action.item!.id, reason);
          this.notice.set(`Invoice ${invoice} rejected.`);
          break;
        case 'not-duplicate':
          await this.queue.markNotDuplicate(action.item!.id, reason);
          this.notice.set(`Invoice ${invoice} is marked as not a duplicate and was evaluated again.`);
          break;
        case 'rematch': {
          const poNumber = String(data.get('po') ?? '');
          if (poNumber === '') {
            throw new Error('Choose the purchase order to match against.');
          }
          await this.queue.rematch(action.item!.id, poNumber, reason);
          this.notice.set(`Invoice ${invoice} was re-matched against ${poNumber}.`);
          break;
        }
        case 'bulk-approve':
        case 'bulk-reject': {
          const kind = action.kind === 'bulk-approve' ? BulkActionKind.APPROVE : BulkActionKind.REJECT;
          const outcome = await this.queue.bulk(kind, reason);
          this.notice.set(
            this.describeBulk(
              kind === BulkActionKind.APPROVE ? 'approved' : 'rejected',
              outcome.succeeded,
              outcome.failed.length,
            ),
          );
          this.showBulkFailures(outcome.failed.map((failure) => failure.error));
          if (outcome.failed.length > 0) return;
          break;
        }
      }
      this.pending.set(undefined);
    }, true);
  }

  /** "Ann (for Ada)" for an approval given by a delegate. */
  protected approvedBy(progress: ApprovalProgress): string {
    return progress.approvals
      .map((approval) =>
        approval.onBehalfOfName
          ? `${approval.approverName} (for ${approval.onBehalfOfName})`
          : approval.approverName,
      )
      .join(', ');
  }

  private describeBulk(verb: string, succeeded: number, failed: number): string {
    return failed === 0
      ? `${succeeded} exception(s) ${verb}.`
      : `${succeeded} exception(s) ${verb}; ${failed} failed.`;
  }

  private showBulkFailures(messages: readonly string[]): void {
    if (messages.length > 0) {
      this.actionError.set([...new Set(messages)].join(' '));
    }
  }

  private async run(action: () => Promise<void>, inPanel = false): Promise<void> {
    this.working.set(true);
    this.actionError.set(undefined);
    try {
      await action();
    } catch (failure) {
      const message =
        failure instanceof Error && !('code' in failure) ? failure.message : errorMessage(failure);
      this.actionError.set(message);
      if (!inPanel) this.notice.set(message);
    } finally {
      this.working.set(false);
    }
  }
}
