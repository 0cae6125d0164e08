import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';

import { continueFrom } from '../session/guards';
import { SessionService } from '../session/session';
import { RpcAction } from '../shared/rpc-action';
import { signInMessage } from './auth-errors';

/**
 * The page of the one-time invitation link (`/accept-invitation#token=…`): the invited person chooses their name and
 * password, and is signed in (two-step sign-in set-up usually comes next). The token travels in the fragment so that it
 * never reaches a server log or a Referer header.
 */
@Component({
  selector: 'app-accept-invitation',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../shared/forms.css', './auth-page.css'],
  template: `
    <div class="card">
      <h1>Accept your invitation</h1>
      @if (token() === '') {
        <p class="alert" role="alert">
          This link has no invitation in it. Open the link from your invitation exactly as you received it, or
          ask your administrator for a new one.
        </p>
        <p><a routerLink="/sign-in">Go to sign-in</a></p>
      } @else {
        <p>Choose the name others will see and a password for your account.</p>
        @if (error(); as message) {
          <p class="alert" role="alert" id="invitation-error">{{ message }}</p>
        }
        <form (submit)="submit($event)" novalidate>
          <div class="field">
            <label for="display-name">Your name</label>
            <input
              id="display-name"
              name="displayName"
              autocomplete="name"
              [value]="displayName()"
              (input)="displayName.set(value($event))"
            />
          </div>
          <div class="field">
            <label for="new-password">Password</label>
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
            <label for="repeat-password">Repeat the password</label>
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
            {{ busy() ? 'Creating your account…' : 'Create my account' }}
          </button>
        </form>
      }
    </div>
  `,
})
export class AcceptInvitation {
  private readonly session = inject(SessionService);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);

  protected readonly token = signal(
    invitationToken(this.route.snapshot.fragment, this.route.snapshot.queryParamMap.get('token')),
  );
  protected readonly displayName = signal('');
  protected readonly password = signal('');
  protected readonly repeat = signal('');
  protected readonly accepting = new RpcAction(signInMessage);
  protected readonly busy = this.accepting.busy;
  protected readonly error = this.accepting.error;

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    if (this.displayName().trim() === '') {
      this.accepting.fail('Enter your name.');
      return;
    }
    if (this.password() !== this.repeat()) {
      this.accepting.fail('The two passwords are not the same.');
      return;
    }
    await this.accepting.run(async () => {
      const status = await this.session.acceptInvitation(
        this.token(),
        this.password(),
        this.displayName().trim(),
      );
      await this.router.navigateByUrl(continueFrom(this.router, status, null));
    });
  }
}

/** The token from `#token=…` (or `?token=…` for links made by hand). */
export function invitationToken(fragment: string | null, query: string | null): string {
  return new URLSearchParams(fragment ?? '').get('token') ?? query ?? '';
}
