import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';

import { continueFrom } from '../session/guards';
import { SessionService } from '../session/session';
import { RpcAction } from '../shared/rpc-action';
import { reasonOf, signInMessage } from './auth-errors';

/** E-mail and password; the organisation is asked for only when the address has accounts in several. */
@Component({
  selector: 'app-sign-in',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../shared/forms.css', './auth-page.css'],
  template: `
    <div class="card">
      <h1>Sign in</h1>
      @if (session.endedBecause(); as ended) {
        <p class="notice" role="status">{{ ended }}</p>
      }
      @if (error(); as message) {
        <p class="alert" role="alert" id="sign-in-error">{{ message }}</p>
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
            [attr.aria-describedby]="error() ? 'sign-in-error' : null"
          />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            [value]="password()"
            (input)="password.set(value($event))"
            [attr.aria-invalid]="error() !== undefined"
          />
        </div>
        @if (askTenant()) {
          <div class="field">
            <label for="tenant">Organisation</label>
            <span class="hint" id="tenant-hint">The short name of your organisation, e.g. "demo".</span>
            <input
              id="tenant"
              name="tenant"
              autocomplete="organization"
              aria-describedby="tenant-hint"
              [value]="tenant()"
              (input)="tenant.set(value($event))"
            />
          </div>
        }
        <button class="button primary" type="submit" [disabled]="busy()">
          {{ busy() ? 'Signing in…' : 'Sign in' }}
        </button>
      </form>
      <p class="aside"><a routerLink="/forgot-password" id="forgot-password">Forgot password?</a></p>
    </div>
  `,
})
export class SignIn {
  protected readonly session = inject(SessionService);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);

  protected readonly email = signal('');
  protected readonly password = signal('');
  protected readonly tenant = signal('');
  protected readonly askTenant = signal(false);
  protected readonly signingIn = new RpcAction(signInMessage);
  protected readonly busy = this.signingIn.busy;
  protected readonly error = this.signingIn.error;

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    if (this.email().trim() === '' || this.password() === '') {
      this.signingIn.fail('Enter your e-mail address and password.');
      return;
    }
    await this.signingIn.run(async () => {
      try {
        const status = await this.session.signIn(this.email().trim(), this.password(), this.tenant().trim());
        await this.router.navigateByUrl(
          continueFrom(this.router, status, this.route.snapshot.queryParamMap.get('returnUrl')),
        );
      } catch (failure) {
        // The address has accounts in several organisations: from now on the form asks which one.
        if (reasonOf(failure) === 'TENANT_REQUIRED') {
          this.askTenant.set(true);
        }
        throw failure;
      }
    });
  }
}
