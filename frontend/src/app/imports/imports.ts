import { ChangeDetectionStrategy, Component } from '@angular/core';

import { EmptyState } from '../shared/empty-state';

@Component({
  selector: 'app-imports',
  imports: [EmptyState],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Imports</h1>
    <app-empty-state
      heading="Imports are coming soon"
      message="Here you will upload vendor, purchase order, receipt and invoice files (CSV or UBL), follow their progress, and see every rejected row with its line, column and reason."
    />
  `,
})
export class Imports {}
