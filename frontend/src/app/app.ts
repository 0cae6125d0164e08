import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  type ElementRef,
  inject,
  untracked,
  viewChild,
} from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { NavigationEnd, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { filter, skip } from 'rxjs';

import { features } from './app.routes';
import { productName } from './page-title';
import { SessionService } from './session/session';
import { UserMenu } from './session/user-menu';
import { StatusIndicator } from './system-status/status-indicator';
import { NotificationBell } from './notifications/notification-bell';

/**
 * The application shell: skip link, header with system status and the signed-in user, section navigation (the
 * sections of the user's role, once fully signed in), and the page.
 *
 * Whether the navigation's column is there is decided from the first frame ({@link SessionService.workspaceLayout}),
 * not once the server has confirmed the session, so the page does not jump sideways after it has been painted. While a
 * session is being restored the navigation lists the sections every role has; those of the user's role follow.
 */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, StatusIndicator, UserMenu, NotificationBell],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './app.html',
  styleUrl: './app.css',
})
export class App {
  protected readonly productName = productName;
  private readonly session = inject(SessionService);
  private readonly router = inject(Router);

  protected readonly workspace = this.session.workspaceLayout;
  /** The bell needs a full session: its calls and the live stream are refused before the second factor. */
  protected readonly signedIn = computed(() => this.session.status() === 'signed-in');
  protected readonly navigation = computed(() => {
    const role = this.session.role();
    return features.filter(
      (feature) =>
        feature.roles === undefined || (role !== undefined && feature.roles.includes(role as never)),
    );
  });

  private readonly main = viewChild.required<ElementRef<HTMLElement>>('main');

  constructor() {
    // A session that ends on its own (expired, revoked, signed out on another device) sends the user to sign in again,
    // and back to this page afterwards.
    effect(() => {
      const ended = this.session.endedBecause();
      if (ended !== undefined) {
        untracked(() => {
          const here = this.router.url;
          // Before the first navigation has finished, the route guards send the user to sign in themselves, keeping the
          // address they opened; a second navigation from here would cancel theirs.
          if (this.router.navigated && !here.startsWith('/sign-in')) {
            void this.router.navigate(['/sign-in'], { queryParams: { returnUrl: here } });
          }
        });
      }
    });
    // After an in-app navigation, keyboard and screen-reader users continue from the new page
    // rather than from the link they activated. The first navigation is the page load: leave focus alone.
    this.router.events
      .pipe(
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
