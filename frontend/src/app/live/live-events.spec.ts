import { TestBed } from '@angular/core/testing';
import { createRouterTransport } from '@connectrpc/connect';

import { GRPC_TRANSPORT } from '../rpc/transport';
import { EventFeed, until } from './event-feed.testing';
import { backoffDelay, LIVE_BACKOFF, LiveEvents, type LiveEvent } from './live-events';

describe('LiveEvents', () => {
  let feed: EventFeed;
  let live: LiveEvents;

  beforeEach(() => {
    feed = new EventFeed();
    TestBed.configureTestingModule({
      providers: [
        { provide: GRPC_TRANSPORT, useValue: createRouterTransport((router) => feed.register(router)) },
        { provide: LIVE_BACKOFF, useValue: { initialMs: 1, maxMs: 4 } },
      ],
    });
    live = TestBed.inject(LiveEvents);
  });

  it('shares one Watch stream between subscribers and filters by topic', async () => {
    const exceptions: LiveEvent[] = [];
    const dashboard: LiveEvent[] = [];
    const a = live.on('exceptions.changed').subscribe((event) => exceptions.push(event));
    const b = live.on('dashboard.changed').subscribe((event) => dashboard.push(event));
    await until(() => live.state() === 'live', 'live');

    feed.publish('exceptions.changed', { exceptionId: 'x1' });
    feed.publish('dashboard.changed');
    feed.publish('imports.imported');
    await until(() => exceptions.length === 1 && dashboard.length === 1, 'events');

    expect(feed.connections).toBe(1);
    expect(exceptions[0].payload).toEqual({ exceptionId: 'x1' });
    expect(exceptions[0].resync).toBe(false);
    a.unsubscribe();
    b.unsubscribe();
  });

  it('drops a repeated event id', async () => {
    const seen: string[] = [];
    const subscription = live.on('exceptions.changed').subscribe((event) => seen.push(event.id));
    await until(() => live.state() === 'live', 'live');

    feed.publish('exceptions.changed', {}, 'same');
    feed.publish('exceptions.changed', {}, 'same');
    feed.publish('exceptions.changed', {}, 'other');
    await until(() => seen.includes('other'), 'the last event');

    expect(seen).toEqual(['same', 'other']);
    subscription.unsubscribe();
  });

  it('reconnects after the stream fails and tells subscribers to resync', async () => {
    const seen: LiveEvent[] = [];
    const subscription = live.on('exceptions.changed').subscribe((event) => seen.push(event));
    await until(() => live.state() === 'live', 'live');

    feed.dropAll();
    await until(() => feed.connections === 2 && live.state() === 'live', 'the reconnection');
    feed.publish('exceptions.changed');
    await until(() => seen.length === 2, 'events after reconnecting');

    expect(seen.map((event) => [event.topic, event.resync])).toEqual([
      ['watch.started', true],
      ['exceptions.changed', false],
    ]);
    subscription.unsubscribe();
  });
});

describe('backoffDelay', () => {
  const policy = { initialMs: 1_000, maxMs: 30_000 };

  it('doubles per failure within half to all of the ceiling, and stops at the maximum', () => {
    expect(backoffDelay(policy, 0, () => 0)).toBe(500);
    expect(backoffDelay(policy, 0, () => 1)).toBe(1_000);
    expect(backoffDelay(policy, 3, () => 0)).toBe(4_000);
    expect(backoffDelay(policy, 3, () => 1)).toBe(8_000);
    expect(backoffDelay(policy, 50, () => 1)).toBe(30_000);
  });
});
