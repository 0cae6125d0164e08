import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { ActivatedRoute, RouterLink } from '@angular/router';

import { NotificationService } from '../../gen/invisible/notifications/v1/notifications_pb';
import { injectClient } from '../rpc/transport';
import { RpcAction } from '../shared/rpc-action';

/**
 * The page of an e-mail's unsubscribe link (`/unsubscribe#token=…`), signed in or not: one button turns that kind of
 * e-mail off. A button rather than on opening, so a mail scanner that follows links turns nothing off. The token
 * travels in the fragment, which never reaches a server log.
 */
@Component({
  selector: 'app-unsubscribe',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../shared/forms.css', '../auth/auth-page.css'],
  template: `
    <div class="card">
      <h1>Stop these e-mails</h1>
      @if (token === '') {
        <p class="alert" role="alert">
          This link has no unsubscribe token. Open it exactly as the e-mail gave it.
        </p>
      } @else if (done(); as sentence) {
        <p class="notice" role="status" data-testid="unsubscribed">{{ sentence }}</p>
        <p>
          You can turn it on again in
          <a routerLink="/settings/account">Settings → Your account → Notifications</a>.
        </p>
      } @else {
        <p>Turn off the kind of e-mail this link came with? Nothing else changes.</p>
        @if (acting.error(); as message) {
          <p class="alert" role="alert">{{ message }}</p>
        }
        <button class="button primary" type="button" (click)="unsubscribe()" [disabled]="acting.busy()">
          Turn these e-mails off
        </button>
      }
    </div>
  `,
})
export class Unsubscribe {
  private readonly notifications = injectClient(NotificationService);
  private readonly route = inject(ActivatedRoute);
  protected readonly token = new URLSearchParams(this.route.snapshot.fragment ?? '').get('token') ?? '';
  protected readonly acting = new RpcAction();
  protected readonly done = signal<string | undefined>(undefined);

  protected async unsubscribe(): Promise<void> {
    await this.acting.run(async () => {
      this.done.set((await this.notifications.unsubscribe({ token: this.token })).turnedOff);
    });
  }
}
