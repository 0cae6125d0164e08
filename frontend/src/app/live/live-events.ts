import { inject, Injectable, InjectionToken, signal } from '@angular/core';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { filter, Observable, share, timer } from 'rxjs';

import { EventService, type WatchEvent } from '../../gen/invisible/events/v1/events_pb';
import { injectClient } from '../rpc/transport';

/** The topics the workspace reacts to (events.proto carries them as strings). */
export const topics = {
  /** Sent by the server as the first message of every Watch: the subscription is live from then on. */
  started: 'watch.started',
  dashboardChanged: 'dashboard.changed',
  exceptionsChanged: 'exceptions.changed',
  importsImported: 'imports.imported',
  /** Older names the server has published for the same facts; listened to as well so nothing is missed. */
  fileImported: 'file-imported',
  reconciled: 'matching.reconciled',
} as const;

export interface LiveEvent {
  readonly id: string;
  readonly topic: string;
  readonly occurredAt: Date | undefined;
  /** The event's fields (JSON); `{}` when the payload is not JSON. */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly position: bigint;
  /**
   * True on the `watch.started` of a reconnection: events may have been missed while the stream was down,
   * so whoever shows server state should reload it.
   */
  readonly resync: boolean;
}

export type LiveState = 'connecting' | 'live' | 'reconnecting';

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const LIVE_BACKOFF = new InjectionToken<BackoffPolicy>('LiveEventsBackoff', {
  providedIn: 'root',
  factory: () => ({ initialMs: 1_000, maxMs: 30_000 }),
});

/** How many event ids are remembered to drop a repeat (the server may resend around a reconnection). */
const rememberedIds = 1_000;

/** Keep the stream open this long after the last subscriber leaves, so a route change does not reconnect. */
const lingerMs = 5_000;

/**
 * The tenant's live events for the whole app over ONE `EventService.Watch` stream, opened when the first page
 * subscribes and closed a little after the last one leaves. A failed or ended stream is reopened with exponential
 * back-off (with jitter, capped); after a reconnection subscribers receive a `resync` event so they reload what they
 * show. Repeated event ids are dropped.
 */
@Injectable({ providedIn: 'root' })
export class LiveEvents {
  private readonly client = injectClient(EventService);
  private readonly backoff = inject(LIVE_BACKOFF);
  private readonly connection = signal<LiveState>('connecting');

  /** Whether updates are arriving: pages show "live" or "reconnecting…" from this. */
  readonly state = this.connection.asReadonly();

  private readonly events$ = new Observable<LiveEvent>((subscriber) => {
    const abort = new AbortController();
    void this.run(abort.signal, (event) => subscriber.next(event));
    return () => abort.abort();
  }).pipe(share({ resetOnRefCountZero: () => timer(lingerMs) }));

  /** Events of the given topics, plus the `resync` marker after every reconnection. */
  on(...wanted: string[]): Observable<LiveEvent> {
    const set = new Set(wanted);
    return this.events$.pipe(filter((event) => event.resync || set.has(event.topic)));
  }

  private async run(signal: AbortSignal, emit: (event: LiveEvent) => void): Promise<void> {
    const seen = new Set<string>();
    let failures = 0;
    let connections = 0;
    while (!signal.aborted) {
      this.connection.set(connections === 0 ? 'connecting' : 'reconnecting');
      try {
        for await (const message of this.client.watch({ topics: [] }, { signal })) {
          if (message.topic === topics.started) {
            failures = 0;
            connections++;
            this.connection.set('live');
            if (connections > 1) {
              emit(toLiveEvent(message, true));
            }
            continue;
          }
          if (seen.has(message.id)) {
            continue;
          }
          remember(seen, message.id);
          emit(toLiveEvent(message, false));
        }
      } catch {
        // Failures are expected here (network, server restart, expired session): the loop reconnects.
      }
      if (signal.aborted) {
        return;
      }
      this.connection.set('reconnecting');
      await sleep(backoffDelay(this.backoff, failures++), signal);
    }
  }
}

/** Exponential back-off with "equal jitter": half the delay fixed, half random, so clients do not reconnect in step. */
export function backoffDelay(
  policy: BackoffPolicy,
  failures: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(failures, 20));
  return ceiling / 2 + (ceiling / 2) * random();
}

function toLiveEvent(message: WatchEvent, resync: boolean): LiveEvent {
  return {
    id: message.id,
    topic: message.topic,
    occurredAt: message.occurredAt === undefined ? undefined : timestampDate(message.occurredAt),
    payload: parsePayload(message.payloadJson),
    position: message.position,
    resync,
  };
}

function parsePayload(json: string): Readonly<Record<string, unknown>> {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function remember(seen: Set<string>, id: string): void {
  seen.add(id);
  if (seen.size > rememberedIds) {
    // Sets iterate in insertion order: the first is the oldest.
    seen.delete(seen.values().next().value as string);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
