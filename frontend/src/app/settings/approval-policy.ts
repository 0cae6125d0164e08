import { ChangeDetectionStrategy, Component, type OnInit, signal } from '@angular/core';

import { AdminService } from '../../gen/invisible/admin/v1/admin_pb';
import { injectClient } from '../rpc/transport';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';

/** Segregation of duties: whether the person who imported an invoice may also override its exception. */
@Component({
  selector: 'app-approval-policy',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    <section class="card" aria-labelledby="approval-heading" [attr.aria-busy]="policy.loading()">
      <h2 id="approval-heading">Approval policy</h2>
      <app-load-status [of]="policy" loading="Loading the policy…" />
      @if (policy.value() !== undefined) {
        <form (submit)="save($event)">
          <div class="field">
            <label>
              <input type="checkbox" [checked]="fourEyes()" (change)="fourEyes.set(checked($event))" />
              Four eyes: whoever imported an invoice may not approve, re-match or clear it as "not a duplicate"
            </label>
            <span class="hint">
              Only approvers and admins override exceptions. With four eyes on, a second person must do it for invoices
              they imported themselves.
            </span>
          </div>
          <button class="button primary" type="submit" [disabled]="busy() || fourEyes() === saved()">
            Save approval policy
          </button>
        </form>
        <p role="status" [class.notice]="notice() !== ''">{{ notice() }}</p>
        @if (saving.error(); as message) {
          <p class="alert" role="alert">{{ message }}</p>
        }
      }
    </section>
  `,
})
export class ApprovalPolicySettings implements OnInit {
  private readonly admin = injectClient(AdminService);

  protected readonly policy = new Loadable(async () => {
    const policy = await this.admin.getApprovalPolicy({});
    this.fourEyes.set(policy.fourEyes);
    this.saved.set(policy.fourEyes);
    return policy.fourEyes;
  });
  protected readonly fourEyes = signal(false);
  protected readonly saved = signal(false);
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
      const policy = await this.admin.setApprovalPolicy({ fourEyes: this.fourEyes() });
      this.saved.set(policy.fourEyes);
      this.fourEyes.set(policy.fourEyes);
      this.notice.set(
        policy.fourEyes
          ? 'Four eyes is on: invoices are approved by someone other than their importer.'
          : 'Four eyes is off.',
      );
    });
  }
}
