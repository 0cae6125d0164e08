import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { ActivatedRoute, Router } from '@angular/router';

import { continueFrom } from '../session/guards';
import { SessionService } from '../session/session';
import { RpcAction } from '../shared/rpc-action';
import { signInMessage } from './auth-errors';

/** The second sign-in step: a code from the authenticator app, or one of the recovery codes. */
@Component({
  selector: 'app-mfa-challenge',
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../shared/forms.css', './auth-page.css'],
  template: `
    <div class="card">
      <h1>Enter your sign-in code</h1>
      @if (useRecoveryCode()) {
        <p>
          Enter one of the recovery codes you saved when you set up two-step sign-in. Each code works once.
        </p>
      } @else {
        <p>Open your authenticator app and enter the 6-digit code it shows for Invisible.</p>
      }
      @if (error(); as message) {
        <p class="alert" role="alert" id="code-error">{{ message }}</p>
      }
      <form (submit)="submit($event)" novalidate>
        <div class="field">
          @if (useRecoveryCode()) {
            <label for="code">Recovery code</label>
            <input
              id="code"
              name="code"
              autocomplete="off"
              spellcheck="false"
              [value]="code()"
              (input)="code.set(value($event))"
              [attr.aria-invalid]="error() !== undefined"
              [attr.aria-describedby]="error() ? 'code-error' : null"
            />
          } @else {
            <label for="code">6-digit code</label>
            <input
              id="code"
              name="code"
              inputmode="numeric"
              autocomplete="one-time-code"
              pattern="[0-9]*"
              maxlength="6"
              [value]="code()"
              (input)="code.set(value($event))"
              [attr.aria-invalid]="error() !== undefined"
              [attr.aria-describedby]="error() ? 'code-error' : null"
            />
          }
        </div>
        <div class="actions">
          <button class="button primary" type="submit" [disabled]="busy()">
            {{ busy() ? 'Checking…' : 'Continue' }}
          </button>
          <button class="link-button" type="button" (click)="toggleRecovery()">
            {{ useRecoveryCode() ? 'Use the authenticator app instead' : 'Use a recovery code instead' }}
          </button>
        </div>
      </form>
      <p><button class="link-button" type="button" (click)="cancel()">Cancel and sign out</button></p>
    </div>
  `,
})
export class MfaChallenge {
  private readonly session = inject(SessionService);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);

  protected readonly code = signal('');
  protected readonly useRecoveryCode = signal(false);
  protected readonly verifying = new RpcAction(signInMessage);
  protected readonly busy = this.verifying.busy;
  protected readonly error = this.verifying.error;

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected toggleRecovery(): void {
    this.useRecoveryCode.update((recovery) => !recovery);
    this.code.set('');
    this.verifying.clear();
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    const code = this.code().trim();
    if (code === '') {
      this.verifying.fail(this.useRecoveryCode() ? 'Enter a recovery code.' : 'Enter the 6-digit code.');
      return;
    }
    await this.verifying.run(async () => {
      const status = await this.session.verifyMfa(
        this.useRecoveryCode() ? { recoveryCode: code } : { totpCode: code },
      );
      await this.router.navigateByUrl(
        continueFrom(this.router, status, this.route.snapshot.queryParamMap.get('returnUrl')),
      );
    });
  }

  protected async cancel(): Promise<void> {
    await this.session.signOut();
    await this.router.navigateByUrl('/sign-in');
  }
}
