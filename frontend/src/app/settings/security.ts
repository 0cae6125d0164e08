import { ChangeDetectionStrategy, Component, type OnInit, signal } from '@angular/core';

import { AdminService } from '../../gen/invisible/admin/v1/admin_pb';
import { injectClient } from '../rpc/transport';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';
import { ApprovalPolicySettings } from './approval-policy';

/** Whether everyone in the organisation must use two-step sign-in, and the approval policy (four eyes). */
@Component({
  selector: 'app-security',
  imports: [LoadStatus, ApprovalPolicySettings],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    <section class="card" aria-labelledby="policy-heading" [attr.aria-busy]="policy.loading()">
      <h2 id="policy-heading">Sign-in policy</h2>
      <app-load-status [of]="policy" loading="Loading the policy…" />
      @if (policy.value() !== undefined) {
        <form (submit)="save($event)">
          <div class="field">
            <label>
              <input type="checkbox" [checked]="required()" (change)="required.set(checked($event))" />
              Require two-step sign-in (an authenticator app) for everyone
            </label>
            <span class="hint">
              People without it set it up at their next sign-in. Turning this off lets people sign in with a
              password alone, unless they set up an app themselves.
            </span>
          </div>
          <button class="button primary" type="submit" [disabled]="busy() || required() === saved()">
            Save policy
          </button>
        </form>
        <p role="status" [class.notice]="notice() !== ''">{{ notice() }}</p>
        @if (saving.error(); as message) {
          <p class="alert" role="alert">{{ message }}</p>
        }
      }
    </section>
    <app-approval-policy />
  `,
})
export class Security implements OnInit {
  private readonly admin = injectClient(AdminService);

  /** Whether the policy requires two-step sign-in, as saved; the form starts from it. */
  protected readonly policy = new Loadable(async () => {
    const policy = await this.admin.getMfaPolicy({});
    this.required.set(policy.required);
    this.saved.set(policy.required);
    return policy.required;
  });
  protected readonly required = signal(true);
  protected readonly saved = signal(true);
  protected readonly saving = new RpcAction();
  protected readonly busy = this.saving.busy;
  protected readonly notice = signal('');

  ngOnInit(): void {
    void this.policy.load();
  }

  protected checked(event: Event): boolean {
    return (event.target as HTMLInputElement).checked;
  }

  protected async save(event: Event): Promise<void> {
    event.preventDefault();
    this.notice.set('');
    await this.saving.run(async () => {
      const policy = await this.admin.setMfaPolicy({ required: this.required() });
      this.saved.set(policy.required);
      this.required.set(policy.required);
      this.notice.set(
        policy.required ? 'Two-step sign-in is now required.' : 'Two-step sign-in is now optional.',
      );
    });
  }
}
