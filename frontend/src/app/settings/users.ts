import { ChangeDetectionStrategy, Component, inject, type OnInit, signal } from '@angular/core';

import { AdminService, type User } from '../../gen/invisible/admin/v1/admin_pb';
import { injectClient } from '../rpc/transport';
import { SessionService } from '../session/session';
import { formatTimestamp } from '../shared/format';
import { LoadableList } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';
import { roleLabel, roles } from './roles';

/** The organisation's users: change a role (the user's sessions end so it applies at once) or disable an account. */
@Component({
  selector: 'app-users',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    <section class="card" aria-labelledby="users-heading" [attr.aria-busy]="users.loading()">
      <h2 id="users-heading">Users and roles</h2>
      <p class="muted">
        Changing a role or disabling a user ends their sessions, so the change applies at once. Add people
        from Invitations.
      </p>
      @if (acting.error(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      @if (notice(); as message) {
        <p class="notice" role="status">{{ message }}</p>
      }
      <app-load-status [of]="users" loading="Loading users…" />
      @if (users.value(); as list) {
        @if (list.length === 0) {
          <p>No users yet.</p>
        } @else {
          <div class="table-scroll">
            <table class="data" aria-label="Users">
              <thead>
                <tr>
                  <th scope="col">E-mail</th>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Two-step sign-in</th>
                  <th scope="col">Last sign-in</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                @for (user of list; track user.id) {
                  <tr>
                    <td>{{ user.email }}</td>
                    <td>{{ user.displayName || '—' }}</td>
                    <td>
                      @if (user.disabled || isMe(user)) {
                        {{ roleLabel(user.role) }}
                      } @else {
                        <label class="visually-hidden" [for]="'role-' + user.id"
                          >Role of {{ user.email }}</label
                        >
                        <select
                          [id]="'role-' + user.id"
                          [value]="user.role"
                          [disabled]="busy()"
                          (change)="setRole(user, $event)"
                        >
                          @for (role of roles; track role.value) {
                            <option [value]="role.value" [selected]="role.value === user.role">
                              {{ role.label }}
                            </option>
                          }
                        </select>
                      }
                    </td>
                    <td>{{ user.mfaEnrolled ? 'On' : 'Off' }}</td>
                    <td>{{ formatTimestamp(user.lastSignInAt, 'Never') }}</td>
                    <td>
                      @if (user.disabled) {
                        Disabled
                      } @else if (!isMe(user)) {
                        <button
                          class="button danger"
                          type="button"
                          [disabled]="busy()"
                          (click)="disable(user)"
                        >
                          Disable<span class="visually-hidden"> {{ user.email }}</span>
                        </button>
                      }
                    </td>
                  </tr>
                }
              </tbody>
            </table>
          </div>
        }
      }
    </section>
  `,
})
export class Users implements OnInit {
  private readonly admin = injectClient(AdminService);
  private readonly session = inject(SessionService);
  protected readonly roles = roles;
  protected readonly roleLabel = roleLabel;
  protected readonly formatTimestamp = formatTimestamp;

  protected readonly users = new LoadableList(async () => (await this.admin.listUsers({})).users);
  protected readonly acting = new RpcAction();
  protected readonly busy = this.acting.busy;
  protected readonly notice = signal<string | undefined>(undefined);

  ngOnInit(): void {
    void this.users.load();
  }

  protected isMe(user: User): boolean {
    return user.email === this.session.user()?.email;
  }

  protected async setRole(user: User, event: Event): Promise<void> {
    const role = (event.target as HTMLSelectElement).value;
    await this.act(async () => {
      const updated = await this.admin.setUserRole({ userId: user.id, role });
      this.users.replace(updated);
      return `${user.email} is now ${roleLabel(updated.role)}.`;
    });
  }

  protected async disable(user: User): Promise<void> {
    await this.act(async () => {
      this.users.replace(await this.admin.disableUser({ userId: user.id }));
      return `${user.email} is disabled and signed out.`;
    });
  }

  /** Runs a change whose answer says what it did; a refused one lists the users again, to show what is true. */
  private async act(action: () => Promise<string>): Promise<void> {
    this.notice.set(undefined);
    const done = await this.acting.run(async () => this.notice.set(await action()));
    if (!done) {
      await this.users.load();
    }
  }
}
