import { ChangeDetectionStrategy, Component, ElementRef, inject, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';

import { SessionService } from './session';

/**
 * The signed-in user in the header: a disclosure button with their e-mail that opens sign-out actions. A plain
 * disclosure (button + list of buttons and links), not an ARIA menu, so Tab and Enter work as everywhere else.
 */
@Component({
  selector: 'app-user-menu',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: {
    '(document:click)': 'closeOnOutsideClick($event)',
    '(keydown.escape)': 'close(true)',
  },
  template: `
    @if (session.user(); as user) {
      <button
        #toggle
        type="button"
        class="toggle"
        aria-controls="user-menu-panel"
        [attr.aria-expanded]="open()"
        (click)="open.set(!open())"
      >
        <span class="visually-hidden">Account: </span>{{ user.email }}
        <span class="role">{{ user.role }}</span>
      </button>
      @if (open()) {
        <div id="user-menu-panel" class="panel">
          <p class="who">
            Signed in to <strong>{{ user.tenantSlug }}</strong> as {{ user.role }}
          </p>
          <ul>
            <li><a routerLink="/settings/account" (click)="close(false)">Your account</a></li>
            <li><button type="button" (click)="signOut()" [disabled]="busy()">Sign out</button></li>
            <li>
              <button type="button" (click)="signOutEverywhere()" [disabled]="busy()">
                Sign out everywhere
              </button>
            </li>
          </ul>
          @if (error(); as message) {
            <p class="error" role="alert">{{ message }}</p>
          }
        </div>
      }
    }
  `,
  styles: `
    :host {
      position: relative;
    }
    .toggle {
      display: inline-flex;
      gap: 0.5rem;
      align-items: center;
      padding: 0.375rem 0.75rem;
      border: 1px solid var(--color-border-strong);
      border-radius: 0.375rem;
      background: var(--color-surface);
      color: var(--color-text);
      font: inherit;
      cursor: pointer;
    }
    .role {
      padding: 0 0.375rem;
      border-radius: 0.25rem;
      background: var(--color-page);
      color: var(--color-muted);
      font-size: 0.8125rem;
    }
    .panel {
      position: absolute;
      right: 0;
      z-index: 20;
      min-width: 16rem;
      margin-top: 0.25rem;
      padding: 0.75rem;
      border: 1px solid var(--color-border);
      border-radius: 0.5rem;
      background: var(--color-surface);
      box-shadow: 0 4px 16px rgb(0 0 0 / 12%);
    }
    .who {
      margin: 0 0 0.5rem;
      color: var(--color-muted);
      font-size: 0.875rem;
    }
    ul {
      margin: 0;
      padding: 0;
      list-style: none;
    }
    li a,
    li button {
      display: block;
      width: 100%;
      padding: 0.5rem;
      border: 0;
      border-radius: 0.25rem;
      background: none;
      color: var(--color-accent);
      font: inherit;
      text-align: left;
      text-decoration: none;
      cursor: pointer;
    }
    li a:hover,
    li button:hover {
      background: var(--color-page);
    }
    .error {
      margin: 0.5rem 0 0;
      color: var(--color-danger-text);
    }
  `,
})
export class UserMenu {
  protected readonly session = inject(SessionService);
  private readonly router = inject(Router);
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);

  protected readonly open = signal(false);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | undefined>(undefined);

  protected close(refocus: boolean): void {
    if (!this.open()) {
      return;
    }
    this.open.set(false);
    if (refocus) {
      this.host.nativeElement.querySelector<HTMLElement>('.toggle')?.focus();
    }
  }

  protected closeOnOutsideClick(event: Event): void {
    if (!this.host.nativeElement.contains(event.target as Node)) {
      this.open.set(false);
    }
  }

  protected async signOut(): Promise<void> {
    this.busy.set(true);
    await this.session.signOut();
    this.busy.set(false);
    this.open.set(false);
    await this.router.navigateByUrl('/sign-in');
  }

  protected async signOutEverywhere(): Promise<void> {
    this.busy.set(true);
    this.error.set(undefined);
    try {
      await this.session.signOutEverywhere();
      this.open.set(false);
      await this.router.navigateByUrl('/sign-in');
    } catch (failure) {
      this.error.set((failure as Error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
