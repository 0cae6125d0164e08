import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

import type { Dashboard } from '../../gen/invisible/matching/v1/matching_pb';
import { exceptionReasonLabel, invoiceStatusLabels } from '../shared/status';
import { BarChart, type Bar } from './bar-chart';

/** The dashboard's charts; loaded lazily (a @defer block) after the numbers are on screen. */
@Component({
  selector: 'app-dashboard-charts',
  imports: [BarChart],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card">
      <app-bar-chart caption="Invoices by status" [bars]="byStatus()" emptyText="No invoices yet." />
    </section>
    <section class="card">
      <app-bar-chart caption="Exceptions by reason" [bars]="byReason()" emptyText="No open exceptions." />
    </section>
    <section class="card">
      <app-bar-chart caption="Exceptions by age" [bars]="byAge()" emptyText="No open exceptions." />
    </section>
  `,
  styles: `
    :host {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
      gap: 1rem;
    }
    .card {
      padding: 1rem 1.25rem;
      background: var(--color-surface);
      border: 1px solid var(--color-border);
      border-radius: 0.75rem;
    }
  `,
})
export class DashboardCharts {
  readonly dashboard = input.required<Dashboard>();

  protected readonly byStatus = computed<Bar[]>(() =>
    this.dashboard().invoicesByStatus.map((count) => {
      const label = invoiceStatusLabels[count.status] ?? invoiceStatusLabels[0];
      return { label: label.label, value: count.invoices, tone: label.tone };
    }),
  );

  protected readonly byReason = computed<Bar[]>(() =>
    this.dashboard().exceptionsByReason.map((count) => ({
      label: exceptionReasonLabel(count.reason),
      value: count.exceptions,
      tone: 'danger',
    })),
  );

  protected readonly byAge = computed<Bar[]>(() =>
    this.dashboard().exceptionsByAge.map((bucket) => ({
      label: bucket.label,
      value: bucket.exceptions,
      tone: 'warning',
    })),
  );
}
