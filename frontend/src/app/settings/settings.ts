import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

import { type Role, SessionService } from '../session/session';

interface Section {
  readonly path: string;
  readonly label: string;
  readonly roles?: readonly Role[];
}

/** Everyone's own account first, then what administrators manage. */
export const settingsSections: readonly Section[] = [
  { path: 'account', label: 'Your account' },
  { path: 'users', label: 'Users and roles', roles: ['admin'] },
  { path: 'invitations', label: 'Invitations', roles: ['admin'] },
  { path: 'api-keys', label: 'API keys', roles: ['admin'] },
  { path: 'security', label: 'Sign-in policy', roles: ['admin'] },
  { path: 'mailbox', label: 'E-mail mailbox', roles: ['admin'] },
  { path: 'approvals', label: 'Approvals', roles: ['admin', 'approver'] },
  { path: 'tolerances', label: 'Tolerances' },
  { path: 'matching-model', label: 'Matching model' },
  { path: 'quickbooks', label: 'QuickBooks' },
];

/** Settings: a section list beside the open section. Sections the role cannot use are not offered. */
@Component({
  selector: 'app-settings',
  imports: [RouterLink, RouterLinkActive, RouterOutlet],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Settings</h1>
    <div class="settings">
      <nav aria-label="Settings">
        <ul>
          @for (section of sections(); track section.path) {
            <li>
              <a [routerLink]="section.path" routerLinkActive="active" ariaCurrentWhenActive="page">{{
                section.label
              }}</a>
            </li>
          }
        </ul>
      </nav>
      <div class="section">
        <router-outlet />
      </div>
    </div>
  `,
  styles: `
    .settings {
      display: grid;
      grid-template-columns: 12rem minmax(0, 1fr);
      gap: 1.5rem;
      align-items: start;
    }
    ul {
      margin: 0;
      padding: 0;
      list-style: none;
    }
    a {
      display: block;
      padding: 0.5rem 0.75rem;
      border-radius: 0.375rem;
      color: var(--color-text);
      text-decoration: none;
    }
    a:hover {
      background: var(--color-surface);
    }
    a.active {
      background: var(--color-surface);
      box-shadow: inset 3px 0 0 var(--color-accent);
      font-weight: 600;
    }
    @media (max-width: 48rem) {
      .settings {
        grid-template-columns: minmax(0, 1fr);
      }
      ul {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
      }
    }
  `,
})
export class Settings {
  private readonly session = inject(SessionService);

  protected readonly sections = computed(() => {
    const role = this.session.role();
    return settingsSections.filter(
      (section) =>
        section.roles === undefined || (role !== undefined && (section.roles as string[]).includes(role)),
    );
  });
}
