import { ChangeDetectionStrategy, Component } from '@angular/core';

import { EmptyState } from '../shared/empty-state';

@Component({
  selector: 'app-invoices',
  imports: [EmptyState],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Invoices</h1>
    <app-empty-state
      heading="The invoice list is coming soon"
      message="Here you will search, filter and sort invoices by match status, and open each invoice's three-way view of purchase order, receipt and invoice lines side by side."
    />
  `,
})
export class Invoices {}
