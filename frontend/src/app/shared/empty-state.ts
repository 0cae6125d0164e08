import { ChangeDetectionStrategy, Component, input } from '@angular/core';

/** What a page shows when it has nothing to list: a heading and a sentence saying what will appear and why. */
@Component({
  selector: 'app-empty-state',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2>{{ heading() }}</h2>
    <p>{{ message() }}</p>
  `,
  styles: `
    :host {
      display: block;
      max-width: 42rem;
      padding: 2rem;
      border: 1px dashed var(--color-border-strong);
      border-radius: 0.75rem;
      background: var(--color-surface);
    }

    h2 {
      margin: 0 0 0.5rem;
      font-size: 1.125rem;
    }

    p {
      margin: 0;
      color: var(--color-muted);
      line-height: 1.5;
    }
  `,
})
export class EmptyState {
  readonly heading = input.required<string>();
  readonly message = input.required<string>();
}
