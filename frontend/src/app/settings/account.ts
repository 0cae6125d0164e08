import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';

import { signInMessage } from '../auth/auth-errors';
import { NotificationPreferencesCard } from '../notifications/notification-preferences';
import { SessionService } from '../session/session';
import { RpcAction } from '../shared/rpc-action';
import { roleLabel } from './roles';

/** The signed-in user's own account: who they are, their password, their authenticator app, their sessions. */
@Component({
  selector: 'app-account',
  imports: [RouterLink, NotificationPreferencesCard],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    @if (session.user(); as user) {
      <section class="card" aria-labelledby="you">
        <h2 id="you">Your account</h2>
        <p>
          {{ user.email }} · {{ roleLabel(user.role) }} in <strong>{{ user.tenantSlug }}</strong>
        </p>
        <p class="muted">
          Two-step sign-in is {{ user.mfaEnrolled ? 'on' : 'off'
          }}{{ user.tenantRequiresMfa ? ' (required by your organisation)' : '' }}.
        </p>
        <p>
          <a routerLink="/mfa/enrol">{{
            user.mfaEnrolled ? 'Move two-step sign-in to a new authenticator app' : 'Turn on two-step sign-in'
          }}</a>
        </p>
      </section>
    }

    <section class="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Change your password</h2>
      <p class="muted">Your other sessions end when the password changes.</p>
      @if (passwordError(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      @if (passwordChanged()) {
        <p class="notice" role="status">Your password has been changed.</p>
      }
      <form (submit)="changePassword($event)" novalidate>
        <div class="field">
          <label for="current-password">Current password</label>
          <input
            id="current-password"
            type="password"
            autocomplete="current-password"
            [value]="current()"
            (input)="current.set(value($event))"
          />
        </div>
        <div class="field">
          <label for="next-password">New password</label>
          <span class="hint" id="next-password-hint">At least 12 characters.</span>
          <input
            id="next-password"
            type="password"
            autocomplete="new-password"
            aria-describedby="next-password-hint"
            [value]="next()"
            (input)="next.set(value($event))"
          />
        </div>
        <button class="button primary" type="submit" [disabled]="busy()">Change password</button>
      </form>
    </section>

    <app-notification-preferences />

    <section class="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <p>
        Signed in on a computer you no longer use, or lost a device? End every session, this one included.
      </p>
      @if (everywhereError(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      <button class="button danger" type="button" (click)="signOutEverywhere()" [disabled]="busy()">
        Sign out everywhere
      </button>
    </section>
  `,
})
export class Account {
  protected readonly session = inject(SessionService);
  private readonly router = inject(Router);
  protected readonly roleLabel = roleLabel;

  protected readonly current = signal('');
  protected readonly next = signal('');
  protected readonly changing = new RpcAction(signInMessage);
  protected readonly signingOut = new RpcAction();
  protected readonly busy = computed(() => this.changing.busy() || this.signingOut.busy());
  protected readonly passwordError = this.changing.error;
  protected readonly passwordChanged = signal(false);
  protected readonly everywhereError = this.signingOut.error;

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected async changePassword(event: Event): Promise<void> {
    event.preventDefault();
    this.passwordChanged.set(false);
    if (this.current() === '' || this.next() === '') {
      this.changing.fail('Enter your current password and the new one.');
      return;
    }
    await this.changing.run(async () => {
      await this.session.changePassword(this.current(), this.next());
      this.current.set('');
      this.next.set('');
      this.passwordChanged.set(true);
    });
  }

  protected async signOutEverywhere(): Promise<void> {
    await this.signingOut.run(async () => {
      await this.session.signOutEverywhere();
      await this.router.navigateByUrl('/sign-in');
    });
  }
}
