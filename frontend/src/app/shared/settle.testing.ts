import type { ComponentFixture } from '@angular/core/testing';

/**
 * Lets the fixture's pending calls (in-memory transports answer on later tasks, which zoneless `whenStable` does not
 * track) finish and renders, until `done` holds for the page. Fails with the page's text if it never does.
 */
export async function renderUntil<T>(
  fixture: ComponentFixture<T>,
  done: (page: HTMLElement) => boolean,
  attempts = 50,
): Promise<HTMLElement> {
  const page = fixture.nativeElement as HTMLElement;
  for (let attempt = 0; attempt < attempts; attempt++) {
    fixture.detectChanges();
    await fixture.whenStable();
    if (done(page)) {
      return page;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(
    `The page never reached the expected state; it shows: ${page.textContent?.replace(/\s+/g, ' ')}`,
  );
}
