import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { ActivatedRoute, RouterLink } from '@angular/router';

import { SessionService } from '../session/session';
import { RpcAction } from '../shared/rpc-action';
import { invitationToken } from './accept-invitation';
import { reasonOf, signInMessage } from './auth-errors';

/** Refusals after which the link is of no more use: the page offers a new one. */
const spentLink = new Set(['PASSWORD_RESET_USED', 'PASSWORD_RESET_EXPIRED', 'PASSWORD_RESET_INVALID']);

/**
 * The page of the e-mailed link (`/reset-password#token=…`, the token in the fragment so it reaches no server log): a new
 * password, twice. It signs nobody in: every session of the account has ended, and signing in asks for the second factor.
 */
@Component({
  selector: 'app-reset-password',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../shared/forms.css', './auth-page.css'],
  template: `
    <div class="card">
      <h1>Set a new password</h1>
      @if (done()) {
        <p class="notice" role="status" id="password-reset">
          Your new password is set, and every device signed in to your account has been signed out. Sign in
          with the new password; you will still be asked for the code from your authenticator app.
        </p>
        <p class="aside"><a class="button primary" routerLink="/sign-in">Sign in</a></p>
      } @else if (token() === '') {
        <p class="alert" role="alert">
          This link has no token in it. Open the link from the e-mail exactly as you received it, or ask for a
          new one.
        </p>
        <p class="aside"><a routerLink="/forgot-password">Ask for a new link</a></p>
      } @else {
        @if (error(); as message) {
          <p class="alert" role="alert" id="reset-error">{{ message }}</p>
        }
        @if (linkSpent()) {
          <p class="aside"><a routerLink="/forgot-password" id="new-link">Ask for a new link</a></p>
        } @else {
          <form (submit)="submit($event)" [attr.aria-busy]="busy()" novalidate>
            <div class="field">
              <label for="new-password">New password</label>
              <span class="hint" id="password-hint"
                >At least 12 characters. A long phrase is easy to remember.</span
              >
              <input
                id="new-password"
                name="password"
                type="password"
                autocomplete="new-password"
                aria-describedby="password-hint"
                [value]="password()"
                (input)="password.set(value($event))"
              />
            </div>
            <div class="field">
              <label for="repeat-password">Repeat the new password</label>
              <input
                id="repeat-password"
                name="repeat"
                type="password"
                autocomplete="new-password"
                [value]="repeat()"
                (input)="repeat.set(value($event))"
              />
            </div>
            <button class="button primary" type="submit" [disabled]="busy()">
              {{ busy() ? 'Setting your password…' : 'Set the new password' }}
            </button>
          </form>
        }
      }
    </div>
  `,
})
export class ResetPassword {
  private readonly session = inject(SessionService);
  private readonly route = inject(ActivatedRoute);

  protected readonly token = signal(
    invitationToken(this.route.snapshot.fragment, this.route.snapshot.queryParamMap.get('token')),
  );
  protected readonly password = signal('');
  protected readonly repeat = signal('');
  protected readonly done = signal(false);
  protected readonly linkSpent = signal(false);
  protected readonly resetting = new RpcAction(signInMessage);
  protected readonly busy = this.resetting.busy;
  protected readonly error = this.resetting.error;

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    if (this.password() === '') {
      this.resetting.fail('Enter the new password.');
      return;
    }
    if (this.password() !== this.repeat()) {
      this.resetting.fail('The two passwords are not the same.');
      return;
    }
    await this.resetting.run(async () => {
      try {
        await this.session.resetPassword(this.token(), this.password());
        this.done.set(true);
      } catch (failure) {
        this.linkSpent.set(spentLink.has(reasonOf(failure) ?? ''));
        throw failure;
      }
    });
  }
}
