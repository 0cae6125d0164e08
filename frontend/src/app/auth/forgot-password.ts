import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';

import { SessionService } from '../session/session';
import { RpcAction } from '../shared/rpc-action';
import { signInMessage } from './auth-errors';

/**
 * "Forgot password?": asks for the address and always answers with the same sentence, since the server does not say
 * (and must not) whether the address has an account.
 */
@Component({
  selector: 'app-forgot-password',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../shared/forms.css', './auth-page.css'],
  template: `
    <div class="card">
      <h1>Forgot your password</h1>
      @if (sentTo(); as address) {
        <p class="notice" role="status" id="reset-requested">
          If an account uses {{ address }}, we have sent it a link to set a new password. The link works once,
          for 30 minutes. Nothing arrived? Check the spam folder, or ask again in a few minutes.
        </p>
      } @else {
        <p>Enter the e-mail address you sign in with. We will send it a link to set a new password.</p>
        @if (error(); as message) {
          <p class="alert" role="alert" id="forgot-error">{{ message }}</p>
        }
        <form (submit)="submit($event)" [attr.aria-busy]="busy()" novalidate>
          <div class="field">
            <label for="email">E-mail address</label>
            <input
              id="email"
              name="email"
              type="email"
              autocomplete="username"
              required
              [value]="email()"
              (input)="email.set(value($event))"
              [attr.aria-invalid]="error() !== undefined"
              [attr.aria-describedby]="error() ? 'forgot-error' : null"
            />
          </div>
          <div class="field">
            <label for="tenant">Organisation (optional)</label>
            <span class="hint" id="tenant-hint"
              >Only if your address has accounts in several organisations: the short name, e.g. "demo".</span
            >
            <input
              id="tenant"
              name="tenant"
              autocomplete="organization"
              aria-describedby="tenant-hint"
              [value]="tenant()"
              (input)="tenant.set(value($event))"
            />
          </div>
          <button class="button primary" type="submit" [disabled]="busy()">
            {{ busy() ? 'Sending…' : 'Send me a link' }}
          </button>
        </form>
      }
      <p class="aside"><a routerLink="/sign-in">Back to sign-in</a></p>
    </div>
  `,
})
export class ForgotPassword {
  private readonly session = inject(SessionService);

  protected readonly email = signal('');
  protected readonly tenant = signal('');
  protected readonly sentTo = signal<string | undefined>(undefined);
  protected readonly requesting = new RpcAction(signInMessage);
  protected readonly busy = this.requesting.busy;
  protected readonly error = this.requesting.error;

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    const email = this.email().trim();
    if (!email.includes('@')) {
      this.requesting.fail('Enter the e-mail address you sign in with.');
      return;
    }
    await this.requesting.run(async () => {
      await this.session.requestPasswordReset(email, this.tenant().trim());
      this.sentTo.set(email);
    });
  }
}
