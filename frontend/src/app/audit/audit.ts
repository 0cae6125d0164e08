import { ChangeDetectionStrategy, Component } from '@angular/core';

import { EmptyState } from '../shared/empty-state';

@Component({
  selector: 'app-audit',
  imports: [EmptyState],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Audit log</h1>
    <app-empty-state
      heading="The audit log is coming soon"
      message="Here you will search and export the tamper-evident record of every financial change: who changed what, when, and the values before and after."
    />
  `,
})
export class Audit {}
