import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';

/**
 * The previous/next buttons under a server-paginated list. The page knows how to fetch a page (its `PageTokens`);
 * this only shows where the reader is and says which way they asked to go.
 */
@Component({
  selector: 'app-pager',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { role: 'navigation', '[attr.aria-label]': 'label()' },
  template: `
    <button class="button" type="button" [disabled]="!hasPrevious() || busy()" (click)="previous.emit()">{{ previousText() }}</button>
    <span>Page {{ pageNumber() }}</span>
    <button class="button" type="button" [disabled]="!hasNext() || busy()" (click)="next.emit()">{{ nextText() }}</button>
  `,
  styles: `
    :host {
      display: flex;
      gap: 0.75rem;
      align-items: center;
      margin-top: 1rem;
    }
  `,
})
export class Pager {
  /** What the list is, for screen readers: "Vendor pages". */
  readonly label = input.required<string>();
  readonly pageNumber = input.required<number>();
  readonly hasPrevious = input.required<boolean>();
  readonly hasNext = input.required<boolean>();
  /** While a page loads, neither button starts another fetch. */
  readonly busy = input(false);
  readonly previousText = input('Previous page');
  readonly nextText = input('Next page');

  readonly previous = output();
  readonly next = output();
}
