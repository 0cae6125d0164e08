import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

import { InvoiceStatus, LineStatus } from '../../gen/invisible/matching/v1/matching_pb';

export type Tone = 'success' | 'warning' | 'danger' | 'neutral' | 'info';

interface StatusLabel {
  readonly label: string;
  readonly tone: Tone;
}

export const invoiceStatusLabels: Readonly<Record<InvoiceStatus, StatusLabel>> = {
  [InvoiceStatus.UNSPECIFIED]: { label: 'Unknown', tone: 'neutral' },
  [InvoiceStatus.PENDING]: { label: 'Pending', tone: 'neutral' },
  [InvoiceStatus.MATCHED]: { label: 'Matched', tone: 'success' },
  [InvoiceStatus.AWAITING_RECEIPT]: { label: 'Awaiting receipt', tone: 'info' },
  [InvoiceStatus.EXCEPTION]: { label: 'Exception', tone: 'danger' },
  [InvoiceStatus.NO_PO]: { label: 'No PO', tone: 'warning' },
  [InvoiceStatus.DUPLICATE]: { label: 'Duplicate', tone: 'warning' },
  [InvoiceStatus.APPROVED]: { label: 'Approved', tone: 'success' },
  [InvoiceStatus.REJECTED]: { label: 'Rejected', tone: 'danger' },
};

/** The statuses a user can filter by, in the order the workflow reaches them. */
export const invoiceStatuses: readonly InvoiceStatus[] = [
  InvoiceStatus.PENDING,
  InvoiceStatus.MATCHED,
  InvoiceStatus.AWAITING_RECEIPT,
  InvoiceStatus.EXCEPTION,
  InvoiceStatus.NO_PO,
  InvoiceStatus.DUPLICATE,
  InvoiceStatus.APPROVED,
  InvoiceStatus.REJECTED,
];

export const lineStatusLabels: Readonly<Record<LineStatus, StatusLabel>> = {
  [LineStatus.UNSPECIFIED]: { label: 'Unknown', tone: 'neutral' },
  [LineStatus.MATCHED]: { label: 'Matched', tone: 'success' },
  [LineStatus.WITHIN_TOLERANCE]: { label: 'Within tolerance', tone: 'success' },
  [LineStatus.PRICE_VARIANCE]: { label: 'Price variance', tone: 'danger' },
  [LineStatus.QUANTITY_VARIANCE]: { label: 'Quantity variance', tone: 'danger' },
  [LineStatus.NOT_RECEIVED]: { label: 'Not received', tone: 'info' },
  [LineStatus.UNMATCHED]: { label: 'Unmatched', tone: 'warning' },
};

/** The exception reasons the server names (exceptions.proto), as people read them. */
export const exceptionReasonLabels: Readonly<Record<string, string>> = {
  price_variance: 'Price variance',
  quantity_variance: 'Quantity variance',
  not_received: 'Not received',
  unmatched: 'Unmatched line',
  totals: 'Totals do not add up',
  no_po: 'No purchase order',
  duplicate: 'Possible duplicate',
};

export function exceptionReasonLabel(reason: string): string {
  return exceptionReasonLabels[reason] ?? reason.replaceAll('_', ' ');
}

/** A status as a chip: the colour helps, the text says it (colour is never the only signal). */
@Component({
  selector: 'app-status-chip',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `{{ label() }}`,
  host: { '[class]': '"chip chip-" + tone()' },
  styles: `
    :host {
      display: inline-block;
      padding: 0.125rem 0.5rem;
      border: 1px solid;
      border-radius: 999px;
      font-size: 0.8125rem;
      font-weight: 600;
      white-space: nowrap;
    }
    :host(.chip-success) {
      color: #14613a;
      background: #e3f5ea;
      border-color: #9fd5b5;
    }
    :host(.chip-danger) {
      color: #a11d1d;
      background: #fde8e8;
      border-color: #f1a9a9;
    }
    :host(.chip-warning) {
      color: #7a4100;
      background: #fff1db;
      border-color: #f0c27a;
    }
    :host(.chip-info) {
      color: #1d4f91;
      background: #e6effb;
      border-color: #a8c3ea;
    }
    :host(.chip-neutral) {
      color: #3b4553;
      background: #eef1f5;
      border-color: #c3cad4;
    }
  `,
})
export class StatusChip {
  readonly status = input<InvoiceStatus | undefined>(undefined);
  readonly lineStatus = input<LineStatus | undefined>(undefined);
  /** Free text with a tone, for states that are not invoice or line statuses. */
  readonly text = input<string | undefined>(undefined);
  readonly textTone = input<Tone>('neutral');

  private readonly resolved = computed<StatusLabel>(() => {
    const status = this.status();
    if (status !== undefined) {
      return invoiceStatusLabels[status] ?? invoiceStatusLabels[InvoiceStatus.UNSPECIFIED];
    }
    const line = this.lineStatus();
    if (line !== undefined) {
      return lineStatusLabels[line] ?? lineStatusLabels[LineStatus.UNSPECIFIED];
    }
    return { label: this.text() ?? '', tone: this.textTone() };
  });

  protected readonly label = computed(() => this.resolved().label);
  protected readonly tone = computed(() => this.resolved().tone);
}
