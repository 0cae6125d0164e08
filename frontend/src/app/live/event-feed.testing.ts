import { create } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';

import { EventService, WatchEventSchema, type WatchEvent } from '../../gen/invisible/events/v1/events_pb';

/**
 * An in-test stand-in for our EventService.Watch: every open stream starts with `watch.started`, then carries what
 * `publish` sends; `dropAll` ends the open streams with an error, as a server restart would.
 */
export class EventFeed {
  private readonly streams = new Set<{ push: (event: WatchEvent) => void; fail: (error: Error) => void }>();
  private position = 0n;
  connections = 0;

  get open(): number {
    return this.streams.size;
  }

  publish(topic: string, payload: object = {}, id: string = crypto.randomUUID()): void {
    const event = create(WatchEventSchema, {
      id,
      topic,
      payloadJson: JSON.stringify(payload),
      position: ++this.position,
    });
    for (const stream of this.streams) stream.push(event);
  }

  dropAll(): void {
    for (const stream of [...this.streams]) stream.fail(new Error('connection lost'));
  }

  register(router: ConnectRouter): void {
    const streams = this.streams;
    const feed = this;
    router.service(EventService, {
      async *watch(_request, context) {
        feed.connections++;
        const queue: WatchEvent[] = [];
        let wake: (() => void) | undefined;
        let failure: Error | undefined;
        const stream = {
          push: (event: WatchEvent) => {
            queue.push(event);
            wake?.();
          },
          fail: (error: Error) => {
            failure = error;
            wake?.();
          },
        };
        streams.add(stream);
        context.signal.addEventListener('abort', () => wake?.());
        try {
          yield create(WatchEventSchema, {
            id: crypto.randomUUID(),
            topic: 'watch.started',
            payloadJson: '{}',
          });
          while (!context.signal.aborted) {
            if (failure) throw failure;
            const next = queue.shift();
            if (next) {
              yield next;
            } else {
              await new Promise<void>((resolve) => (wake = resolve));
            }
          }
        } finally {
          streams.delete(stream);
        }
      },
    });
  }
}

/** Resolves once `condition` holds, checking after each macrotask (for streams and promises to settle). */
export async function until(condition: () => boolean, what = 'condition', timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
