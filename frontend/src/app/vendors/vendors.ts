import { ChangeDetectionStrategy, Component } from '@angular/core';

import { EmptyState } from '../shared/empty-state';

@Component({
  selector: 'app-vendors',
  imports: [EmptyState],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Vendors</h1>
    <app-empty-state
      heading="Vendors are coming soon"
      message="Here you will manage the vendor master and the aliases used to recognise vendors on incoming invoices."
    />
  `,
})
export class Vendors {}
