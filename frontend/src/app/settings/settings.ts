import { ChangeDetectionStrategy, Component } from '@angular/core';

import { EmptyState } from '../shared/empty-state';

@Component({
  selector: 'app-settings',
  imports: [EmptyState],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Settings</h1>
    <app-empty-state
      heading="Settings are coming soon"
      message="Here administrators will set matching tolerances (with a preview of their effect), manage users, roles, invitations and API keys, and choose the sign-in policy."
    />
  `,
})
export class Settings {}
