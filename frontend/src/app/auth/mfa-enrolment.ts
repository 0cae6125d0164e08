import {
  ChangeDetectionStrategy,
  Component,
  computed,
  type ElementRef,
  inject,
  type OnInit,
  signal,
  viewChild,
} from '@angular/core';
import { ActivatedRoute, Router } from '@angular/router';

import { downloadFile } from '../shared/download';
import { continueFrom } from '../session/guards';
import { SessionService } from '../session/session';
import { RpcAction } from '../shared/rpc-action';
import { signInMessage } from './auth-errors';
import { QrCode } from './qr-code';

type Step =
  | { kind: 'starting' }
  | { kind: 'failed'; message: string }
  | { kind: 'scan'; otpauthUri: string; secretBase32: string }
  | { kind: 'codes'; recoveryCodes: readonly string[] };

/**
 * Sets up two-step sign-in: scan the QR code (or type the secret), confirm with a first code, then keep the recovery
 * codes, which are shown this once.
 */
@Component({
  selector: 'app-mfa-enrolment',
  imports: [QrCode],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../shared/forms.css', './auth-page.css'],
  styles: `
    :host {
      max-width: 34rem;
    }
    ol.steps {
      padding-left: 1.25rem;
      line-height: 1.5;
    }
    app-qr-code {
      margin: 1rem 0;
    }
    ul.codes {
      display: grid;
      grid-template-columns: repeat(2, minmax(0, 1fr));
      gap: 0.25rem 1rem;
      margin: 1rem 0;
      padding: 0.75rem 1rem;
      border: 1px solid var(--color-border);
      border-radius: 0.375rem;
      background: var(--color-page);
      font-family: ui-monospace, monospace;
      font-size: 1.0625rem;
      list-style: none;
    }
  `,
  template: `
    <div class="card">
      @switch (step().kind) {
        @case ('starting') {
          <h1>Set up two-step sign-in</h1>
          <p role="status">Preparing your authenticator secret…</p>
        }
        @case ('failed') {
          <h1>Set up two-step sign-in</h1>
          <p class="alert" role="alert">{{ failure() }}</p>
          <button class="button" type="button" (click)="start()">Try again</button>
        }
        @case ('scan') {
          <h1>Set up two-step sign-in</h1>
          <p>Your organisation asks for a code from an authenticator app each time you sign in.</p>
          <ol class="steps">
            <li>
              Open an authenticator app on your phone (for example Google Authenticator, Microsoft
              Authenticator or 1Password).
            </li>
            <li>Scan this QR code with it.</li>
            <li>Enter the 6-digit code the app shows.</li>
          </ol>
          <app-qr-code [text]="otpauthUri()" label="QR code to add Invisible to your authenticator app" />
          <details>
            <summary>Cannot scan? Type the secret instead</summary>
            <p class="muted">Choose "enter a setup key" in the app, time-based, and type:</p>
            <code class="secret" data-testid="totp-secret">{{ groupedSecret() }}</code>
          </details>
          @if (error(); as message) {
            <p class="alert" role="alert" id="enrol-error">{{ message }}</p>
          }
          <form (submit)="confirm($event)" novalidate>
            <div class="field">
              <label for="code">6-digit code from the app</label>
              <input
                id="code"
                name="code"
                inputmode="numeric"
                autocomplete="one-time-code"
                maxlength="6"
                [value]="code()"
                (input)="code.set(value($event))"
                [attr.aria-invalid]="error() !== undefined"
                [attr.aria-describedby]="error() ? 'enrol-error' : null"
              />
            </div>
            <button class="button primary" type="submit" [disabled]="busy()">
              {{ busy() ? 'Checking…' : 'Turn on two-step sign-in' }}
            </button>
          </form>
        }
        @case ('codes') {
          <h1 #codesHeading tabindex="-1">Save your recovery codes</h1>
          <p class="notice" role="status">Two-step sign-in is on.</p>
          <p>
            If you lose your phone, each of these codes signs you in once instead of a code from the app.
            <strong>They are shown only now.</strong> Keep them somewhere safe, such as a password manager.
          </p>
          <ul class="codes" aria-label="Recovery codes">
            @for (recoveryCode of recoveryCodes(); track recoveryCode) {
              <li>{{ recoveryCode }}</li>
            }
          </ul>
          <div class="actions">
            <button class="button" type="button" (click)="copy()">Copy codes</button>
            <button class="button" type="button" (click)="download()">Download codes</button>
            <button class="button primary" type="button" (click)="finish()">I have saved my codes</button>
          </div>
          <p role="status" class="muted">{{ copied() }}</p>
        }
      }
    </div>
  `,
})
export class MfaEnrolment implements OnInit {
  private readonly session = inject(SessionService);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  private readonly codesHeading = viewChild<ElementRef<HTMLElement>>('codesHeading');

  protected readonly step = signal<Step>({ kind: 'starting' });
  protected readonly code = signal('');
  protected readonly confirming = new RpcAction(signInMessage);
  protected readonly busy = this.confirming.busy;
  protected readonly error = this.confirming.error;
  protected readonly copied = signal('');

  protected readonly failure = computed(() => {
    const step = this.step();
    return step.kind === 'failed' ? step.message : '';
  });
  protected readonly otpauthUri = computed(() => {
    const step = this.step();
    return step.kind === 'scan' ? step.otpauthUri : '';
  });
  protected readonly groupedSecret = computed(() => {
    const step = this.step();
    return step.kind === 'scan' ? (step.secretBase32.match(/.{1,4}/g) ?? []).join(' ') : '';
  });
  protected readonly recoveryCodes = computed(() => {
    const step = this.step();
    return step.kind === 'codes' ? step.recoveryCodes : [];
  });

  ngOnInit(): void {
    void this.start();
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected async start(): Promise<void> {
    this.step.set({ kind: 'starting' });
    try {
      const enrolment = await this.session.beginMfaEnrolment();
      this.step.set({ kind: 'scan', ...enrolment });
    } catch (failure) {
      this.step.set({ kind: 'failed', message: signInMessage(failure) });
    }
  }

  protected async confirm(event: Event): Promise<void> {
    event.preventDefault();
    const code = this.code().trim();
    if (!/^\d{6}$/.test(code)) {
      this.confirming.fail('Enter the 6-digit code your authenticator app shows.');
      return;
    }
    await this.confirming.run(async () => {
      const recoveryCodes = await this.session.confirmMfaEnrolment(code);
      this.step.set({ kind: 'codes', recoveryCodes });
      // The page changed under the user's focus: continue from the new heading.
      setTimeout(() => this.codesHeading()?.nativeElement.focus());
    });
  }

  protected async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.codesText());
      this.copied.set('The recovery codes are on the clipboard.');
    } catch {
      this.copied.set('The browser did not allow copying; download the codes or write them down.');
    }
  }

  protected download(): void {
    downloadFile('invisible-recovery-codes.txt', this.codesText(), 'text/plain');
    this.copied.set('The recovery codes were downloaded as invisible-recovery-codes.txt.');
  }

  protected async finish(): Promise<void> {
    await this.router.navigateByUrl(
      continueFrom(this.router, this.session.status(), this.route.snapshot.queryParamMap.get('returnUrl')),
    );
  }

  private codesText(): string {
    const user = this.session.user();
    return [
      `Invisible recovery codes${user ? ` for ${user.email} (${user.tenantSlug})` : ''}`,
      'Each code signs you in once instead of a code from your authenticator app.',
      '',
      ...this.recoveryCodes(),
      '',
    ].join('\n');
  }
}
