/**
 * Server pagination with opaque page tokens: the tokens of the pages seen so far make "previous" possible without
 * the server supporting it. `current` is the token that fetched the page on screen ('' for the first).
 */
export class PageTokens {
  private readonly previous: string[] = [];
  current = '';

  get pageNumber(): number {
    return this.previous.length + 1;
  }

  get hasPrevious(): boolean {
    return this.previous.length > 0;
  }

  next(nextPageToken: string): string {
    this.previous.push(this.current);
    this.current = nextPageToken;
    return this.current;
  }

  back(): string {
    this.current = this.previous.pop() ?? '';
    return this.current;
  }

  reset(): void {
    this.previous.length = 0;
    this.current = '';
  }
}
