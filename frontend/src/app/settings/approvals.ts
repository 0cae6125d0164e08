import { ChangeDetectionStrategy, Component, inject } from '@angular/core';

import { SessionService } from '../session/session';
import { ApprovalRules } from './approval-rules';
import { Delegations } from './delegations';

/** Settings → Approvals: the rules (admins) and delegations (approvers and admins). */
@Component({
  selector: 'app-approvals',
  imports: [ApprovalRules, Delegations],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (session.hasRole('admin')) {
      <app-approval-rules />
    }
    <app-delegations />
  `,
})
export class Approvals {
  protected readonly session = inject(SessionService);
}
