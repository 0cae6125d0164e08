import { computed, signal } from '@angular/core';

/** What a page shows for data it fetches: loading, the data (maybe empty), or the server's actionable message. */
export type LoadState<T> =
  | { readonly kind: 'loading' }
  | { readonly kind: 'loaded'; readonly value: T }
  | { readonly kind: 'failed'; readonly message: string };

export const loading = { kind: 'loading' } as const;

export function loaded<T>(value: T): LoadState<T> {
  return { kind: 'loaded', value };
}

export function failed(failure: unknown): LoadState<never> {
  return { kind: 'failed', message: failure instanceof Error ? failure.message : String(failure) };
}

/** The server's message of a failed load, or '' while loading or once loaded. */
export function failureOf(state: LoadState<unknown>): string {
  return state.kind === 'failed' ? state.message : '';
}

/**
 * Data a page fetches from the server, as signals: its {@link LoadState}, the value once loaded, the failure.
 * `load()` fetches (again: on "Try again", after a change that the page cannot apply itself); `set` and `update` show
 * what a change answered without fetching. `<app-load-status [of]="…">` shows the loading and failed states.
 */
export class Loadable<T> {
  private readonly current = signal<LoadState<T>>(loading);

  readonly state = this.current.asReadonly();
  readonly loading = computed(() => this.current().kind === 'loading');
  /** The data, once loaded; `undefined` while loading or after a failure. */
  readonly value = computed(() => {
    const state = this.current();
    return state.kind === 'loaded' ? state.value : undefined;
  });
  readonly failure = computed(() => failureOf(this.current()));

  constructor(private readonly fetch: () => Promise<T>) {}

  async load(): Promise<void> {
    this.current.set(loading);
    try {
      this.current.set(loaded(await this.fetch()));
    } catch (failure) {
      this.current.set(failed(failure));
    }
  }

  set(value: T): void {
    this.current.set(loaded(value));
  }

  /** Changes the loaded data (nothing while there is none). */
  protected update(change: (value: T) => T): void {
    const state = this.current();
    if (state.kind === 'loaded') {
      this.current.set(loaded(change(state.value)));
    }
  }
}

/** A list of things with an id, fetched like any {@link Loadable}; a change to one thing is shown in place. */
export class LoadableList<T extends { readonly id: string }> extends Loadable<readonly T[]> {
  /** Shows `updated` (what the server answered to a change) in place of the item with its id. */
  replace(updated: T): void {
    this.update((items) => items.map((item) => (item.id === updated.id ? updated : item)));
  }
}
