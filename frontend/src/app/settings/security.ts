import { ChangeDetectionStrategy, Component, type OnInit, signal } from '@angular/core';

import { AdminService } from '../../gen/invisible/admin/v1/admin_pb';
import { injectClient } from '../rpc/transport';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';
import { ApprovalPolicySettings } from './approval-policy';

/**
 * Whether everyone in the organisation must use two-step sign-in, the approval policy (four eyes), and the networks
 * (IP allowlist) people may sign in from and API keys may call from.
 */
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

    <section class="card" aria-labelledby="allowlist-heading" [attr.aria-busy]="allowlist.loading()">
      <h2 id="allowlist-heading">Allowed networks</h2>
      <app-load-status [of]="allowlist" loading="Loading the allowed networks…" />
      @if (allowlist.value() !== undefined) {
        <form (submit)="saveRanges($event)">
          <div class="field">
            <label for="allowlist-ranges">Address ranges, one per line</label>
            <textarea
              id="allowlist-ranges"
              rows="5"
              spellcheck="false"
              placeholder="203.0.113.0/24"
              [value]="ranges()"
              (input)="ranges.set(text($event))"
            ></textarea>
            <span class="hint">
              CIDR ranges such as 203.0.113.0/24, or single addresses. When the list is not empty, sign-in, session
              refresh and API keys work only from these networks; attempts from elsewhere are refused and recorded in
              the audit log. Leave it empty to allow every network. Your own address must be in the list.
            </span>
          </div>
          <button class="button primary" type="submit" [disabled]="savingRanges.busy()">Save networks</button>
        </form>
        <p role="status" [class.notice]="rangesNotice() !== ''">{{ rangesNotice() }}</p>
        @if (savingRanges.error(); as message) {
          <p class="alert" role="alert">{{ message }}</p>
        }
      }
    </section>
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

  /** The saved allowlist, one range per line in the text box. */
  protected readonly allowlist = new Loadable(async () => {
    const allowlist = await this.admin.getIpAllowlist({});
    this.ranges.set(allowlist.cidrRanges.join('\n'));
    return allowlist.cidrRanges;
  });
  protected readonly ranges = signal('');
  protected readonly savingRanges = new RpcAction();
  protected readonly rangesNotice = signal('');

  ngOnInit(): void {
    void this.policy.load();
    void this.allowlist.load();
  }

  protected text(event: Event): string {
    return (event.target as HTMLTextAreaElement).value;
  }

  protected async saveRanges(event: Event): Promise<void> {
    event.preventDefault();
    this.rangesNotice.set('');
    const cidrRanges = this.ranges()
      .split(/[\s,]+/)
      .map((range) => range.trim())
      .filter((range) => range !== '');
    await this.savingRanges.run(async () => {
      const allowlist = await this.admin.setIpAllowlist({ cidrRanges });
      this.ranges.set(allowlist.cidrRanges.join('\n'));
      this.rangesNotice.set(
        allowlist.cidrRanges.length === 0
          ? 'Every network is allowed.'
          : `Only these ${allowlist.cidrRanges.length} networks are allowed.`,
      );
    });
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
