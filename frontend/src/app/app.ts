import { ChangeDetectionStrategy, Component, type ElementRef, inject, viewChild } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { NavigationEnd, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { filter, skip } from 'rxjs';

import { features } from './app.routes';
import { productName } from './page-title';
import { StatusIndicator } from './system-status/status-indicator';

/** The application shell: skip link, header with system status, section navigation, and the page. */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, StatusIndicator],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './app.html',
  styleUrl: './app.css',
})
export class App {
  protected readonly productName = productName;
  protected readonly navigation = features;

  private readonly main = viewChild.required<ElementRef<HTMLElement>>('main');

  constructor() {
    // After an in-app navigation, keyboard and screen-reader users continue from the new page
    // rather than from the link they activated. The first navigation is the page load: leave focus alone.
    inject(Router)
      .events.pipe(
        filter((event) => event instanceof NavigationEnd),
        skip(1),
        takeUntilDestroyed(),
      )
      .subscribe(() => this.focusMain());
  }

  /** The skip link moves focus itself: with `<base href="/">` a bare `#main` would reload the root URL. */
  protected skipToMain(event: Event): void {
    event.preventDefault();
    this.focusMain();
  }

  private focusMain(): void {
    this.main().nativeElement.focus();
  }
}
