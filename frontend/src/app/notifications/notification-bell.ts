import { ChangeDetectionStrategy, Component, DestroyRef, ElementRef, inject, signal } from '@angular/core';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Router } from '@angular/router';
import { auditTime } from 'rxjs';

import {
  type ListNotificationsResponse,
  type Notification,
  NotificationService,
} from '../../gen/invisible/notifications/v1/notifications_pb';
import { LiveEvents } from '../live/live-events';
import { injectClient } from '../rpc/transport';
import { RpcAction } from '../shared/rpc-action';

/** The topic of an in-app notification on the live stream; the server sends each only to the person it is for. */
export const notificationTopic = 'notifications.created';

/**
 * The bell in the header: how many in-app notifications are unread, and a panel listing the latest, each a link to its
 * item. A new notification arrives on the live stream and the count goes up without a reload.
 */
@Component({
  selector: 'app-notification-bell',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: {
    '(document:click)': 'closeOnOutsideClick($event)',
    '(keydown.escape)': 'open.set(false)',
  },
  template: `
    <button
      type="button"
      class="bell"
      data-testid="notification-bell"
      aria-controls="notification-panel"
      [attr.aria-expanded]="open()"
      (click)="toggle()"
    >
      <span aria-hidden="true">🔔</span>
      <span class="visually-hidden">Notifications: </span>
      <span class="count" data-testid="unread-count">{{ unread() }}</span>
      <span class="visually-hidden"> unread</span>
    </button>
    @if (open()) {
      <div id="notification-panel" class="panel" role="region" aria-label="Notifications">
        @if (acting.error(); as message) {
          <p class="error" role="alert">{{ message }}</p>
        }
        <ul>
          @for (notification of items(); track notification.id) {
            <li [class.unread]="!notification.read">
              <a [href]="notification.link" (click)="follow($event, notification)">{{
                notification.subject
              }}</a>
              <span class="when">{{ when(notification) }}</span>
            </li>
          } @empty {
            <li>Nothing yet.</li>
          }
        </ul>
        @if (unread() > 0) {
          <button type="button" class="mark" (click)="markAllRead()" [disabled]="acting.busy()">
            Mark all read
          </button>
        }
      </div>
    }
  `,
  styles: `
    :host {
      position: relative;
    }
    .bell {
      display: inline-flex;
      gap: 0.25rem;
      align-items: center;
      padding: 0.375rem 0.5rem;
      border: 1px solid var(--color-border, #d0d5dd);
      border-radius: 0.375rem;
      background: transparent;
      cursor: pointer;
    }
    .count {
      min-width: 1.25rem;
      font-weight: 600;
    }
    .panel {
      position: absolute;
      right: 0;
      z-index: 10;
      width: 24rem;
      max-height: 28rem;
      overflow: auto;
      padding: 0.5rem;
      border: 1px solid var(--color-border, #d0d5dd);
      border-radius: 0.375rem;
      background: var(--color-surface, #fff);
      box-shadow: 0 4px 16px rgb(0 0 0 / 12%);
    }
    ul {
      margin: 0;
      padding: 0;
      list-style: none;
    }
    li {
      display: grid;
      gap: 0.125rem;
      padding: 0.5rem;
      border-bottom: 1px solid var(--color-border, #eef0f3);
    }
    li.unread a {
      font-weight: 600;
    }
    .when {
      font-size: 0.8125rem;
      color: var(--color-muted);
    }
    .error {
      color: var(--color-danger, #b42318);
    }
  `,
})
export class NotificationBell {
  private readonly notifications = injectClient(NotificationService);
  private readonly router = inject(Router);
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);

  protected readonly open = signal(false);
  protected readonly items = signal<readonly Notification[]>([]);
  protected readonly unread = signal(0);
  protected readonly acting = new RpcAction();

  constructor() {
    void this.load();
    const live = inject(LiveEvents)
      .on(notificationTopic)
      .pipe(auditTime(200))
      .subscribe(() => void this.load());
    inject(DestroyRef).onDestroy(() => live.unsubscribe());
  }

  protected toggle(): void {
    this.open.set(!this.open());
  }

  protected when(notification: Notification): string {
    return notification.createdAt ? timestampDate(notification.createdAt).toLocaleString() : '';
  }

  protected async follow(event: Event, notification: Notification): Promise<void> {
    event.preventDefault();
    this.open.set(false);
    if (!notification.read) {
      await this.acting.run(async () => {
        this.show(
          await this.notifications.markNotificationsRead({ notificationIds: [notification.id] }),
          notification.id,
        );
      });
    }
    await this.router.navigateByUrl(notification.link);
  }

  protected async markAllRead(): Promise<void> {
    await this.acting.run(async () => {
      this.show(await this.notifications.markNotificationsRead({ notificationIds: [] }));
    });
  }

  protected closeOnOutsideClick(event: Event): void {
    if (this.open() && !this.host.nativeElement.contains(event.target as Node)) {
      this.open.set(false);
    }
  }

  private async load(): Promise<void> {
    await this.acting.run(async () => {
      const response: ListNotificationsResponse = await this.notifications.listNotifications({ limit: 20 });
      this.items.set(response.notifications);
      this.unread.set(response.unreadCount);
    });
  }

  /** What marking read answered: the new unread count, and the marked items (all when no id) shown as read. */
  private show(response: { unreadCount: number }, id?: string): void {
    this.unread.set(response.unreadCount);
    this.items.update((items) =>
      items.map((item) => (id === undefined || item.id === id ? { ...item, read: true } : item)),
    );
  }
}
