import { ChangeDetectionStrategy, Component, type OnInit, signal } from '@angular/core';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';

import { AdminService, type ApiKey } from '../../gen/invisible/admin/v1/admin_pb';
import { signInMessage } from '../auth/auth-errors';
import { toRpcError } from '../rpc/errors';
import { injectClient } from '../rpc/transport';
import { formatTimestamp } from '../shared/format';
import { failed, loaded, loading, type LoadState, failureOf } from '../shared/load-state';
import { roleLabel, roles } from './roles';

/** Service-account keys for integrations, each with one role; the key itself is shown once. */
@Component({
  selector: 'app-api-keys',
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    <section class="card" aria-labelledby="create-key-heading">
      <h2 id="create-key-heading">Create an API key</h2>
      <p class="muted">
        Programs send the key as the <code>x-api-key</code> header. It acts with the role you choose.
      </p>
      @if (createError(); as message) {
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
      @if (createdKey(); as key) {
        <div class="notice" role="status">
          <p>Copy the key now: it is shown only once and cannot be recovered.</p>
          <code class="secret" data-testid="api-key">{{ key }}</code>
          <p><button class="button" type="button" (click)="copy(key)">Copy key</button> {{ copied() }}</p>
        </div>
      }
    </section>

    <section class="card" aria-labelledby="keys-heading" [attr.aria-busy]="state().kind === 'loading'">
      <h2 id="keys-heading">API keys</h2>
      @if (actionError(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      @switch (state().kind) {
        @case ('loading') {
          <p role="status">Loading API keys…</p>
        }
        @case ('failed') {
          <p class="alert" role="alert">{{ failure() }}</p>
          <button class="button" type="button" (click)="load()">Try again</button>
        }
        @case ('loaded') {
          @if (keys().length === 0) {
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
                  @for (key of keys(); track key.id) {
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
                          <button
                            class="button danger"
                            type="button"
                            [disabled]="busy()"
                            (click)="revoke(key)"
                          >
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
      }
    </section>
  `,
})
export class ApiKeys implements OnInit {
  private readonly admin = injectClient(AdminService);
  protected readonly roles = roles;
  protected readonly roleLabel = roleLabel;
  protected readonly formatTimestamp = formatTimestamp;

  protected readonly state = signal<LoadState<ApiKey[]>>(loading);
  protected readonly name = signal('');
  protected readonly role = signal('clerk');
  protected readonly expiry = signal('');
  protected readonly busy = signal(false);
  protected readonly createError = signal<string | undefined>(undefined);
  protected readonly actionError = signal<string | undefined>(undefined);
  protected readonly createdKey = signal<string | undefined>(undefined);
  protected readonly copied = signal('');

  ngOnInit(): void {
    void this.load();
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected keys(): ApiKey[] {
    const state = this.state();
    return state.kind === 'loaded' ? state.value : [];
  }

  protected failure(): string {
    return failureOf(this.state());
  }

  protected async load(): Promise<void> {
    this.state.set(loading);
    try {
      this.state.set(loaded((await this.admin.listApiKeys({})).apiKeys));
    } catch (failure) {
      this.state.set(failed(failure));
    }
  }

  protected async create(event: Event): Promise<void> {
    event.preventDefault();
    if (this.name().trim() === '') {
      this.createError.set('Give the key a name, so you can tell it apart later.');
      return;
    }
    this.busy.set(true);
    this.createError.set(undefined);
    this.createdKey.set(undefined);
    this.copied.set('');
    try {
      const response = await this.admin.createApiKey({
        name: this.name().trim(),
        role: this.role(),
        // The end of the chosen day, in the user's time zone.
        expiresAt:
          this.expiry() === '' ? undefined : timestampFromDate(new Date(`${this.expiry()}T23:59:59`)),
      });
      this.createdKey.set(response.key);
      this.name.set('');
      this.expiry.set('');
      await this.load();
    } catch (failure) {
      this.createError.set(signInMessage(failure));
    } finally {
      this.busy.set(false);
    }
  }

  protected async revoke(key: ApiKey): Promise<void> {
    this.busy.set(true);
    this.actionError.set(undefined);
    try {
      const revoked = await this.admin.revokeApiKey({ apiKeyId: key.id });
      this.state.set(loaded(this.keys().map((item) => (item.id === revoked.id ? revoked : item))));
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
      this.copied.set('Copying was not allowed; select the key and copy it.');
    }
  }
}
