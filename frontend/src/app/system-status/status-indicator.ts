import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';

import { SystemStatus, type Readiness } from './system-status';

const labels: Readonly<Record<Readiness, string>> = {
  checking: 'Checking…',
  ready: 'Ready',
  unready: 'Not ready',
};

/** The server's readiness in the header; opens to show what the server reported. */
@Component({
  selector: 'app-status-indicator',
  imports: [DatePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './status-indicator.html',
  styleUrl: './status-indicator.css',
})
export class StatusIndicator {
  private readonly status = inject(SystemStatus);

  protected readonly report = this.status.report;
  protected readonly readiness = this.status.readiness;
  protected readonly label = computed(() => labels[this.readiness()]);
}
