import { ChangeDetectionStrategy, Component } from '@angular/core';

import { EmptyState } from '../shared/empty-state';

@Component({
  selector: 'app-exceptions',
  imports: [EmptyState],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Exceptions</h1>
    <app-empty-state
      heading="The exception queue is coming soon"
      message="Invoices that could not be matched automatically will wait here for review: approve with a reason, reject, re-match against ranked candidates, or mark as not a duplicate."
    />
  `,
})
export class Exceptions {}
