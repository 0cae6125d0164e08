import { signal } from '@angular/core';

import { errorMessage } from './error-banner';

/**
 * Something the user asked for that calls the server (submit a form, revoke a key): whether it is running, to disable
 * the buttons that would start it again, and the sentence to show when it failed. A page makes one per message line
 * it shows, as a field: `protected readonly saving = new RpcAction();`.
 */
export class RpcAction {
  private readonly running = signal(false);
  private readonly message = signal<string | undefined>(undefined);

  /** True while {@link run} has not settled. */
  readonly busy = this.running.asReadonly();

  /** Why the last run failed (or what {@link fail} said), until the next run. */
  readonly error = this.message.asReadonly();

  /**
   * @param describe the sentence for a failure: by default the server's actionable message (rpc/errors.ts); forms of
   *   the sign-in family use `signInMessage`, which keeps the server's answer to a wrong password.
   */
  constructor(private readonly describe: (failure: unknown) => string = errorMessage) {}

  /**
   * Runs `work` (the calls, and what the page does with their answers): busy until it settles, the previous error
   * cleared at the start, a failure shown as {@link error} rather than thrown. Resolves to whether it succeeded.
   */
  async run(work: () => Promise<unknown>): Promise<boolean> {
    this.running.set(true);
    this.message.set(undefined);
    try {
      await work();
      return true;
    } catch (failure) {
      this.message.set(this.describe(failure));
      return false;
    } finally {
      this.running.set(false);
    }
  }

  /** Shows `message` without calling the server: what the form's own checks found. */
  fail(message: string): void {
    this.message.set(message);
  }

  /** Forgets the last error, e.g. when the form it was about changes. */
  clear(): void {
    this.message.set(undefined);
  }
}
