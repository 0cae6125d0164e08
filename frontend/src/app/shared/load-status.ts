import { ChangeDetectionStrategy, Component, input } from '@angular/core';

import type { Loadable } from './load-state';

/**
 * What a page shows until its {@link Loadable} data is there: the loading sentence as a status, or the server's
 * message as an alert with "Try again". Nothing once loaded: the page shows the data (`@if (data.value(); as value)`).
 * Lays out as if its content were the page's own.
 */
@Component({
  selector: 'app-load-status',
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: './forms.css',
  styles: `
    :host {
      display: contents;
    }
  `,
  template: `
    @switch (of().state().kind) {
      @case ('loading') {
        <p role="status">{{ loading() }}</p>
      }
      @case ('failed') {
        <p class="alert" role="alert">{{ of().failure() }}</p>
        <button class="button" type="button" (click)="of().load()">Try again</button>
      }
    }
  `,
})
export class LoadStatus {
  readonly of = input.required<Loadable<unknown>>();
  /** e.g. "Loading API keys…" */
  readonly loading = input.required<string>();
}
