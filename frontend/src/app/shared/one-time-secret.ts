import { signal } from '@angular/core';

/**
 * What the server shows only once, such as a new API key or an invitation link: on screen until the next attempt to
 * make one, with the outcome of the Copy button next to it.
 */
export class OneTimeSecret {
  private readonly shown = signal<string | undefined>(undefined);
  private readonly copyOutcome = signal('');

  /** The secret, or `undefined` when there is none to show. */
  readonly value = this.shown.asReadonly();
  /** "Copied.", or what to do when the browser does not allow copying; '' before any copy. */
  readonly copied = this.copyOutcome.asReadonly();

  /** @param what names the secret in the sentence shown when copying is not allowed, e.g. "key". */
  constructor(private readonly what: string) {}

  show(secret: string): void {
    this.shown.set(secret);
  }

  /** Takes the secret (and what copying it said) off the screen. */
  hide(): void {
    this.shown.set(undefined);
    this.copyOutcome.set('');
  }

  async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.shown() ?? '');
      this.copyOutcome.set('Copied.');
    } catch {
      this.copyOutcome.set(`Copying was not allowed; select the ${this.what} and copy it.`);
    }
  }
}
