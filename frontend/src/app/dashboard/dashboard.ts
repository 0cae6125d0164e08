import { ChangeDetectionStrategy, Component } from '@angular/core';

import { EmptyState } from '../shared/empty-state';

@Component({
  selector: 'app-dashboard',
  imports: [EmptyState],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Dashboard</h1>
    <app-empty-state
      heading="The dashboard is coming soon"
      message="It will show the touchless (automatically matched) rate, invoices by status, exceptions by reason and age, amounts on hold and today's imports, updated live as reconciliation runs."
    />
  `,
})
export class Dashboard {}
