import { ChangeDetectionStrategy, Component, type OnInit, signal } from '@angular/core';

import { AdminService } from '../../gen/invisible/admin/v1/admin_pb';
import { injectClient } from '../rpc/transport';
import { failed, loaded, loading, type LoadState, failureOf } from '../shared/load-state';

/** Whether everyone in the organisation must use two-step sign-in. */
@Component({
  selector: 'app-security',
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    <section class="card" aria-labelledby="policy-heading" [attr.aria-busy]="state().kind === 'loading'">
      <h2 id="policy-heading">Sign-in policy</h2>
      @switch (state().kind) {
        @case ('loading') {
          <p role="status">Loading the policy…</p>
        }
        @case ('failed') {
          <p class="alert" role="alert">{{ failure() }}</p>
          <button class="button" type="button" (click)="load()">Try again</button>
        }
        @case ('loaded') {
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
          @if (error(); as message) {
            <p class="alert" role="alert">{{ message }}</p>
          }
        }
      }
    </section>
  `,
})
export class Security implements OnInit {
  private readonly admin = injectClient(AdminService);

  protected readonly state = signal<LoadState<boolean>>(loading);
  protected readonly required = signal(true);
  protected readonly saved = signal(true);
  protected readonly busy = signal(false);
  protected readonly notice = signal('');
  protected readonly error = signal<string | undefined>(undefined);

  ngOnInit(): void {
    void this.load();
  }

  protected checked(event: Event): boolean {
    return (event.target as HTMLInputElement).checked;
  }

  protected failure(): string {
    return failureOf(this.state());
  }

  protected async load(): Promise<void> {
    this.state.set(loading);
    try {
      const policy = await this.admin.getMfaPolicy({});
      this.required.set(policy.required);
      this.saved.set(policy.required);
      this.state.set(loaded(policy.required));
    } catch (failure) {
      this.state.set(failed(failure));
    }
  }

  protected async save(event: Event): Promise<void> {
    event.preventDefault();
    this.busy.set(true);
    this.error.set(undefined);
    this.notice.set('');
    try {
      const policy = await this.admin.setMfaPolicy({ required: this.required() });
      this.saved.set(policy.required);
      this.required.set(policy.required);
      this.notice.set(
        policy.required ? 'Two-step sign-in is now required.' : 'Two-step sign-in is now optional.',
      );
    } catch (failure) {
      this.error.set((failure as Error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
