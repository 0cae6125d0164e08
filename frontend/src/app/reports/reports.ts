import { ChangeDetectionStrategy, Component } from '@angular/core';

import { EmptyState } from '../shared/empty-state';

@Component({
  selector: 'app-reports',
  imports: [EmptyState],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Reports</h1>
    <app-empty-state
      heading="Reports are coming soon"
      message="Here you will export reconciliation results and summaries for a period."
    />
  `,
})
export class Reports {}
