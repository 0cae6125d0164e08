import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';

import { toRpcError } from '../rpc/errors';

/** The sentence to show for a failed call: the server's actionable message when it wrote one (rpc/errors.ts). */
export function errorMessage(failure: unknown): string {
  return toRpcError(failure).message;
}

/** A failed load or action: what went wrong, in the server's words when actionable, and a way to try again. */
@Component({
  selector: 'app-error-banner',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <p>{{ message() }}</p>
    @if (retryLabel()) {
      <button type="button" (click)="retry.emit()">{{ retryLabel() }}</button>
    }
  `,
  host: { role: 'alert' },
  styles: `
    :host {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.75rem;
      margin: 0 0 1rem;
      padding: 0.75rem 1rem;
      color: var(--color-danger-text);
      background: var(--color-danger-surface);
      border: 1px solid var(--color-danger-border);
      border-radius: 0.5rem;
    }
    p {
      margin: 0;
    }
  `,
})
export class ErrorBanner {
  readonly message = input.required<string>();
  readonly retryLabel = input<string>('');
  readonly retry = output<void>();
}
