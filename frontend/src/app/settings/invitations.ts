import {
  ChangeDetectionStrategy,
  Component,
  computed,
  DOCUMENT,
  inject,
  type OnInit,
  signal,
} from '@angular/core';

import { AdminService, type Invitation } from '../../gen/invisible/admin/v1/admin_pb';
import { signInMessage } from '../auth/auth-errors';
import { injectClient } from '../rpc/transport';
import { formatTimestamp } from '../shared/format';
import { LoadableList } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { OneTimeSecret } from '../shared/one-time-secret';
import { RpcAction } from '../shared/rpc-action';
import { roleLabel, roles } from './roles';

/** Invite people by e-mail; the one-time link is shown once, for the administrator to send. */
@Component({
  selector: 'app-invitations',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    <section class="card" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite someone</h2>
      @if (inviting.error(); as message) {
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
      @if (link.value(); as invitationLink) {
        <div class="notice" role="status">
          <p>
            Invitation created. Send this link to the person; it is shown only now and works once, for
            {{ linkValidity() }}.
          </p>
          <code class="secret" data-testid="invitation-link">{{ invitationLink }}</code>
          <p>
            <button class="button" type="button" (click)="link.copy()">Copy link</button>
            {{ link.copied() }}
          </p>
        </div>
      }
    </section>

    <section class="card" aria-labelledby="invitations-heading" [attr.aria-busy]="invitations.loading()">
      <h2 id="invitations-heading">Invitations</h2>
      @if (revoking.error(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      <app-load-status [of]="invitations" loading="Loading invitations…" />
      @if (invitations.value(); as list) {
        @if (list.length === 0) {
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
                @for (invitation of list; track invitation.id) {
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
                          Revoke<span class="visually-hidden"> the invitation of {{ invitation.email }}</span>
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
export class Invitations implements OnInit {
  private readonly admin = injectClient(AdminService);
  private readonly origin = inject(DOCUMENT).location.origin;
  protected readonly roles = roles;
  protected readonly roleLabel = roleLabel;
  protected readonly formatTimestamp = formatTimestamp;

  protected readonly invitations = new LoadableList(
    async () => (await this.admin.listInvitations({})).invitations,
  );
  protected readonly email = signal('');
  protected readonly role = signal('clerk');
  protected readonly inviting = new RpcAction(signInMessage);
  protected readonly revoking = new RpcAction();
  protected readonly busy = computed(() => this.inviting.busy() || this.revoking.busy());
  protected readonly link = new OneTimeSecret('link');
  protected readonly linkValidity = signal('');

  ngOnInit(): void {
    void this.invitations.load();
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
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

  protected async invite(event: Event): Promise<void> {
    event.preventDefault();
    if (!/^[^@\s]+@[^@\s]+$/.test(this.email().trim())) {
      this.inviting.fail('Enter the e-mail address of the person to invite.');
      return;
    }
    this.link.hide();
    await this.inviting.run(async () => {
      const response = await this.admin.inviteUser({ email: this.email().trim(), role: this.role() });
      // The token goes in the fragment: browsers never send it to a server or in a Referer header.
      this.link.show(
        `${this.origin}/accept-invitation#token=${encodeURIComponent(response.invitationToken)}`,
      );
      this.linkValidity.set(`until ${formatTimestamp(response.invitation?.expiresAt)}`);
      this.email.set('');
      await this.invitations.load();
    });
  }

  protected async revoke(invitation: Invitation): Promise<void> {
    await this.revoking.run(async () =>
      this.invitations.replace(await this.admin.revokeInvitation({ invitationId: invitation.id })),
    );
  }
}
