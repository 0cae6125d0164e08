import { ChangeDetectionStrategy, Component, type OnInit, signal } from '@angular/core';

import {
  type NotificationPreference,
  type NotificationPreferences as Preferences,
  NotificationService,
} from '../../gen/invisible/notifications/v1/notifications_pb';
import { injectClient } from '../rpc/transport';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';

type Channel = 'email' | 'inApp' | 'digest';

/** Kinds whose items wait for someone: only those can be listed in the daily digest. */
const inDigest = new Set(['exception_assigned', 'approval_waiting']);

const kindLabels: Readonly<Record<string, string>> = {
  exception_assigned: 'Exception assigned to you',
  approval_waiting: 'Approval waiting for you',
  import_rejected: 'Import or e-mail intake rejected',
  quickbooks_export_failed: 'QuickBooks export failed',
};

/** Settings → Your account → Notifications: per kind, by e-mail, in the app, in the daily digest. */
@Component({
  selector: 'app-notification-preferences',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    <section class="card" aria-labelledby="notifications-heading" [attr.aria-busy]="preferences.loading()">
      <h2 id="notifications-heading">Notifications</h2>
      <app-load-status [of]="preferences" loading="Loading your notification choices…" />
      @if (preferences.value(); as current) {
        <p class="hint">
          The daily digest lists what waits for you, once a day from {{ current.digestHour }}:00 UTC. Every
          e-mail has a link to turn its kind off.
        </p>
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">E-mail</th>
              <th scope="col">In the app</th>
              <th scope="col">Daily digest</th>
            </tr>
          </thead>
          <tbody>
            @for (preference of current.preferences; track preference.kind) {
              <tr>
                <th scope="row">
                  {{ label(preference.kind) }}
                  <span class="hint">{{ preference.description }}</span>
                </th>
                <td>
                  <input
                    type="checkbox"
                    [attr.aria-label]="label(preference.kind) + ' by e-mail'"
                    [checked]="preference.email"
                    [disabled]="saving.busy()"
                    (change)="toggle(preference, 'email', $event)"
                  />
                </td>
                <td>
                  <input
                    type="checkbox"
                    [attr.aria-label]="label(preference.kind) + ' in the app'"
                    [checked]="preference.inApp"
                    [disabled]="saving.busy()"
                    (change)="toggle(preference, 'inApp', $event)"
                  />
                </td>
                <td>
                  @if (digestable(preference.kind)) {
                    <input
                      type="checkbox"
                      [attr.aria-label]="label(preference.kind) + ' in the daily digest'"
                      [checked]="preference.digest"
                      [disabled]="saving.busy()"
                      (change)="toggle(preference, 'digest', $event)"
                    />
                  } @else {
                    <span class="hint">—</span>
                  }
                </td>
              </tr>
            }
          </tbody>
        </table>
      }
      <p role="status" [class.notice]="notice() !== ''">{{ notice() }}</p>
      @if (saving.error(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
    </section>
  `,
})
export class NotificationPreferencesCard implements OnInit {
  private readonly notifications = injectClient(NotificationService);
  protected readonly preferences = new Loadable<Preferences>(() =>
    this.notifications.getNotificationPreferences({}),
  );
  protected readonly saving = new RpcAction();
  protected readonly notice = signal('');

  ngOnInit(): void {
    void this.preferences.load();
  }

  protected label(kind: string): string {
    return kindLabels[kind] ?? kind;
  }

  protected digestable(kind: string): boolean {
    return inDigest.has(kind);
  }

  protected async toggle(preference: NotificationPreference, channel: Channel, event: Event): Promise<void> {
    const on = (event.target as HTMLInputElement).checked;
    this.notice.set('');
    await this.saving.run(async () => {
      const saved = await this.notifications.setNotificationPreferences({
        preferences: [
          {
            kind: preference.kind,
            email: preference.email,
            inApp: preference.inApp,
            digest: preference.digest,
            [channel]: on,
          },
        ],
      });
      this.preferences.set(saved);
      this.notice.set('Saved.');
    });
  }
}
