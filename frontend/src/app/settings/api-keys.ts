import { ChangeDetectionStrategy, Component, computed, type OnInit, signal } from '@angular/core';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';

import { AdminService, type ApiKey } from '../../gen/invisible/admin/v1/admin_pb';
import { signInMessage } from '../auth/auth-errors';
import { injectClient } from '../rpc/transport';
import { formatTimestamp } from '../shared/format';
import { LoadableList } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { OneTimeSecret } from '../shared/one-time-secret';
import { RpcAction } from '../shared/rpc-action';
import { roleLabel, roles } from './roles';

/** Service-account keys for integrations, each with one role; the key itself is shown once. */
@Component({
  selector: 'app-api-keys',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    <section class="card" aria-labelledby="create-key-heading">
      <h2 id="create-key-heading">Create an API key</h2>
      <p class="muted">
        Programs send the key as the <code>x-api-key</code> header. It acts with the role you choose.
      </p>
      @if (creating.error(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      <form (submit)="create($event)" novalidate>
        <div class="field">
          <label for="key-name">Name</label>
          <span class="hint" id="key-name-hint">What uses the key, e.g. "ERP nightly import".</span>
          <input
            id="key-name"
            aria-describedby="key-name-hint"
            [value]="name()"
            (input)="name.set(value($event))"
          />
        </div>
        <div class="field">
          <label for="key-role">Role</label>
          <select id="key-role" [value]="role()" (change)="role.set(value($event))">
            @for (option of roles; track option.value) {
              <option [value]="option.value" [selected]="option.value === role()">{{ option.label }}</option>
            }
          </select>
        </div>
        <div class="field">
          <label for="key-expiry">Expires on (optional)</label>
          <input id="key-expiry" type="date" [value]="expiry()" (input)="expiry.set(value($event))" />
        </div>
        <button class="button primary" type="submit" [disabled]="busy()">Create key</button>
      </form>
      @if (createdKey.value(); as key) {
        <div class="notice" role="status">
          <p>Copy the key now: it is shown only once and cannot be recovered.</p>
          <code class="secret" data-testid="api-key">{{ key }}</code>
          <p>
            <button class="button" type="button" (click)="createdKey.copy()">Copy key</button>
            {{ createdKey.copied() }}
          </p>
        </div>
      }
    </section>

    <section class="card" aria-labelledby="keys-heading" [attr.aria-busy]="keys.loading()">
      <h2 id="keys-heading">API keys</h2>
      @if (revoking.error(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      <app-load-status [of]="keys" loading="Loading API keys…" />
      @if (keys.value(); as list) {
        @if (list.length === 0) {
          <p>No API keys yet.</p>
        } @else {
          <div class="table-scroll">
            <table class="data" aria-label="API keys">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Starts with</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                @for (key of list; track key.id) {
                  <tr>
                    <td>{{ key.name }}</td>
                    <td>
                      <code>{{ key.keyPrefix }}…</code>
                    </td>
                    <td>{{ roleLabel(key.role) }}</td>
                    <td>{{ formatTimestamp(key.createdAt) }}</td>
                    <td>{{ formatTimestamp(key.expiresAt, 'Never') }}</td>
                    <td>{{ formatTimestamp(key.lastUsedAt, 'Never') }}</td>
                    <td>
                      @if (key.revoked) {
                        Revoked
                      } @else {
                        <button class="button danger" type="button" [disabled]="busy()" (click)="revoke(key)">
                          Revoke<span class="visually-hidden"> {{ key.name }}</span>
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
export class ApiKeys implements OnInit {
  private readonly admin = injectClient(AdminService);
  protected readonly roles = roles;
  protected readonly roleLabel = roleLabel;
  protected readonly formatTimestamp = formatTimestamp;

  protected readonly keys = new LoadableList(async () => (await this.admin.listApiKeys({})).apiKeys);
  protected readonly name = signal('');
  protected readonly role = signal('clerk');
  protected readonly expiry = signal('');
  protected readonly creating = new RpcAction(signInMessage);
  protected readonly revoking = new RpcAction();
  protected readonly busy = computed(() => this.creating.busy() || this.revoking.busy());
  protected readonly createdKey = new OneTimeSecret('key');

  ngOnInit(): void {
    void this.keys.load();
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected async create(event: Event): Promise<void> {
    event.preventDefault();
    if (this.name().trim() === '') {
      this.creating.fail('Give the key a name, so you can tell it apart later.');
      return;
    }
    this.createdKey.hide();
    await this.creating.run(async () => {
      const response = await this.admin.createApiKey({
        name: this.name().trim(),
        role: this.role(),
        // The end of the chosen day, in the user's time zone.
        expiresAt:
          this.expiry() === '' ? undefined : timestampFromDate(new Date(`${this.expiry()}T23:59:59`)),
      });
      this.createdKey.show(response.key);
      this.name.set('');
      this.expiry.set('');
      await this.keys.load();
    });
  }

  protected async revoke(key: ApiKey): Promise<void> {
    await this.revoking.run(async () =>
      this.keys.replace(await this.admin.revokeApiKey({ apiKeyId: key.id })),
    );
  }
}
