import { signal } from '@angular/core';

/**
 * Server pagination with opaque page tokens: the tokens of the pages seen so far make "previous" possible without
 * the server supporting it. `current` is the token that fetched the page on screen ('' for the first). Kept in signals,
 * so a template showing `pageNumber` or `hasPrevious` follows them.
 */
export class PageTokens {
  private readonly previous = signal<readonly string[]>([]);
  private readonly shown = signal('');

  get current(): string {
    return this.shown();
  }

  set current(token: string) {
    this.shown.set(token);
  }

  get pageNumber(): number {
    return this.previous().length + 1;
  }

  get hasPrevious(): boolean {
    return this.previous().length > 0;
  }

  next(nextPageToken: string): string {
    this.previous.update((tokens) => [...tokens, this.shown()]);
    this.shown.set(nextPageToken);
    return nextPageToken;
  }

  back(): string {
    const tokens = this.previous();
    this.shown.set(tokens.at(-1) ?? '');
    this.previous.set(tokens.slice(0, -1));
    return this.shown();
  }

  reset(): void {
    this.previous.set([]);
    this.shown.set('');
  }
}
