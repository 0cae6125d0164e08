import { computed } from '@angular/core';

import { PageTokens } from './page-tokens';

describe('PageTokens', () => {
  it('goes forward with the server’s tokens and back through the ones seen, as signals', () => {
    const pages = new PageTokens();
    const label = computed(
      () => `page ${pages.pageNumber}${pages.hasPrevious ? ', with a previous one' : ''}`,
    );
    expect(label()).toBe('page 1');

    expect(pages.next('50')).toBe('50');
    expect(pages.next('100')).toBe('100');
    expect(label()).toBe('page 3, with a previous one');

    expect(pages.back()).toBe('50');
    expect(pages.current).toBe('50');
    expect(label()).toBe('page 2, with a previous one');

    pages.reset();
    expect(pages.current).toBe('');
    expect(label()).toBe('page 1');
  });
});
