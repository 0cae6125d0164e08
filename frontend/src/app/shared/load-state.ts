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
