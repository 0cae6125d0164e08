import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { RouterLink } from '@angular/router';

import { LiveBadge } from '../live/live-badge';
import { formatTimestamp } from '../shared/dates';
import { EmptyState } from '../shared/empty-state';
import { ErrorBanner } from '../shared/error-banner';
import { MoneyPipe } from '../shared/money';
import { DashboardCharts } from './dashboard-charts';
import { DashboardData } from './dashboard-data';

const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });

@Component({
  selector: 'app-dashboard',
  imports: [EmptyState, ErrorBanner, LiveBadge, MoneyPipe, RouterLink, DashboardCharts],
  providers: [DashboardData],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './dashboard.html',
  styleUrls: ['../shared/workspace.css', './dashboard.css'],
})
export class Dashboard {
  protected readonly data = inject(DashboardData);

  protected readonly touchless = computed(() => {
    const dashboard = this.data.dashboard();
    return dashboard === undefined ? '' : percent.format(dashboard.touchlessRate);
  });

  protected readonly openExceptions = computed(() =>
    (this.data.dashboard()?.exceptionsByReason ?? []).reduce((sum, reason) => sum + reason.exceptions, 0),
  );

  protected readonly asOf = computed(() => formatTimestamp(this.data.dashboard()?.asOf));
}
