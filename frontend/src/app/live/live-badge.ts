import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';

import { LiveEvents } from './live-events';

/** "Live" / "Reconnecting…": tells the user whether what they see updates by itself. */
@Component({
  selector: 'app-live-badge',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<span class="dot" aria-hidden="true"></span>{{ label() }}`,
  host: { role: 'status', '[class.live]': 'live()' },
  styles: `
    :host {
      display: inline-flex;
      align-items: center;
      gap: 0.375rem;
      font-size: 0.875rem;
      color: var(--color-muted);
    }
    .dot {
      width: 0.5rem;
      height: 0.5rem;
      border-radius: 50%;
      background: #8a94a3;
    }
    :host(.live) .dot {
      background: #1f8a4c;
    }
  `,
})
export class LiveBadge {
  private readonly live$ = inject(LiveEvents);
  protected readonly live = computed(() => this.live$.state() === 'live');
  protected readonly label = computed(() => {
    switch (this.live$.state()) {
      case 'live':
        return 'Live updates on';
      case 'connecting':
        return 'Connecting to live updates…';
      default:
        return 'Live updates interrupted, reconnecting…';
    }
  });
}
