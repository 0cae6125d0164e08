import { ChangeDetectionStrategy, Component, DOCUMENT, inject, type OnInit, signal } from '@angular/core';

import { AdminService, type Invitation } from '../../gen/invisible/admin/v1/admin_pb';
import { signInMessage } from '../auth/auth-errors';
import { toRpcError } from '../rpc/errors';
import { injectClient } from '../rpc/transport';
import { formatTimestamp } from '../shared/format';
import { failed, loaded, loading, type LoadState, failureOf } from '../shared/load-state';
import { roleLabel, roles } from './roles';

/** Invite people by e-mail; the one-time link is shown once, for the administrator to send. */
@Component({
  selector: 'app-invitations',
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    <section class="card" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite someone</h2>
      @if (inviteError(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      <form (submit)="invite($event)" novalidate>
        <div class="field">
          <label for="invite-email">E-mail address</label>
          <input
            id="invite-email"
            type="email"
            autocomplete="off"
            [value]="email()"
            (input)="email.set(value($event))"
          />
        </div>
        <div class="field">
          <label for="invite-role">Role</label>
          <select id="invite-role" [value]="role()" (change)="role.set(value($event))">
            @for (option of roles; track option.value) {
              <option [value]="option.value" [selected]="option.value === role()">
                {{ option.label }} — {{ option.description }}
              </option>
            }
          </select>
        </div>
        <button class="button primary" type="submit" [disabled]="busy()">Create invitation</button>
      </form>
      @if (link(); as invitationLink) {
        <div class="notice" role="status">
          <p>
            Invitation created. Send this link to the person; it is shown only now and works once, for
            {{ linkValidity() }}.
          </p>
          <code class="secret" data-testid="invitation-link">{{ invitationLink }}</code>
          <p>
            <button class="button" type="button" (click)="copy(invitationLink)">Copy link</button>
            {{ copied() }}
          </p>
        </div>
      }
    </section>

    <section class="card" aria-labelledby="invitations-heading" [attr.aria-busy]="state().kind === 'loading'">
      <h2 id="invitations-heading">Invitations</h2>
      @if (actionError(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      @switch (state().kind) {
        @case ('loading') {
          <p role="status">Loading invitations…</p>
        }
        @case ('failed') {
          <p class="alert" role="alert">{{ failure() }}</p>
          <button class="button" type="button" (click)="load()">Try again</button>
        }
        @case ('loaded') {
          @if (invitations().length === 0) {
            <p>No invitations yet. Invite someone above.</p>
          } @else {
            <div class="table-scroll">
              <table class="data" aria-label="Invitations">
                <thead>
                  <tr>
                    <th scope="col">E-mail</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Expires</th>
                    <th scope="col"><span class="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  @for (invitation of invitations(); track invitation.id) {
                    <tr>
                      <td>{{ invitation.email }}</td>
                      <td>{{ roleLabel(invitation.role) }}</td>
                      <td>{{ status(invitation) }}</td>
                      <td>{{ formatTimestamp(invitation.expiresAt) }}</td>
                      <td>
                        @if (status(invitation) === 'Pending') {
                          <button
                            class="button danger"
                            type="button"
                            [disabled]="busy()"
                            (click)="revoke(invitation)"
                          >
                            Revoke<span class="visually-hidden">
                              the invitation of {{ invitation.email }}</span
                            >
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
      }
    </section>
  `,
})
export class Invitations implements OnInit {
  private readonly admin = injectClient(AdminService);
  private readonly origin = inject(DOCUMENT).location.origin;
  protected readonly roles = roles;
  protected readonly roleLabel = roleLabel;
  protected readonly formatTimestamp = formatTimestamp;

  protected readonly state = signal<LoadState<Invitation[]>>(loading);
  protected readonly email = signal('');
  protected readonly role = signal('clerk');
  protected readonly busy = signal(false);
  protected readonly inviteError = signal<string | undefined>(undefined);
  protected readonly actionError = signal<string | undefined>(undefined);
  protected readonly link = signal<string | undefined>(undefined);
  protected readonly linkValidity = signal('');
  protected readonly copied = signal('');

  ngOnInit(): void {
    void this.load();
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected invitations(): Invitation[] {
    const state = this.state();
    return state.kind === 'loaded' ? state.value : [];
  }

  protected failure(): string {
    return failureOf(this.state());
  }

  protected status(invitation: Invitation): string {
    if (invitation.accepted) {
      return 'Accepted';
    }
    if (invitation.revoked) {
      return 'Revoked';
    }
    const expires =
      invitation.expiresAt === undefined ? Infinity : Number(invitation.expiresAt.seconds) * 1000;
    return expires <= Date.now() ? 'Expired' : 'Pending';
  }

  protected async load(): Promise<void> {
    this.state.set(loading);
    try {
      this.state.set(loaded((await this.admin.listInvitations({})).invitations));
    } catch (failure) {
      this.state.set(failed(failure));
    }
  }

  protected async invite(event: Event): Promise<void> {
    event.preventDefault();
    if (!/^[^@\s]+@[^@\s]+$/.test(this.email().trim())) {
      this.inviteError.set('Enter the e-mail address of the person to invite.');
      return;
    }
    this.busy.set(true);
    this.inviteError.set(undefined);
    this.link.set(undefined);
    this.copied.set('');
    try {
      const response = await this.admin.inviteUser({ email: this.email().trim(), role: this.role() });
      // The token goes in the fragment: browsers never send it to a server or in a Referer header.
      this.link.set(`${this.origin}/accept-invitation#token=${encodeURIComponent(response.invitationToken)}`);
      this.linkValidity.set(`until ${formatTimestamp(response.invitation?.expiresAt)}`);
      this.email.set('');
      await this.load();
    } catch (failure) {
      this.inviteError.set(signInMessage(failure));
    } finally {
      this.busy.set(false);
    }
  }

  protected async revoke(invitation: Invitation): Promise<void> {
    this.busy.set(true);
    this.actionError.set(undefined);
    try {
      const revoked = await this.admin.revokeInvitation({ invitationId: invitation.id });
      this.state.set(loaded(this.invitations().map((item) => (item.id === revoked.id ? revoked : item))));
    } catch (failure) {
      this.actionError.set(toRpcError(failure).message);
    } finally {
      this.busy.set(false);
    }
  }

  protected async copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.copied.set('Copied.');
    } catch {
      this.copied.set('Copying was not allowed; select the link and copy it.');
    }
  }
}
