import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A protobuf timestamp for people ("22 Nov 2026, 05:04"), or a dash when unset. */
export function formatTimestamp(timestamp: Timestamp | undefined): string {
  return timestamp === undefined ? '—' : dateTime.format(timestampDate(timestamp));
}

/** Whole days from `timestamp` to `now` (an exception's age). */
export function ageInDays(timestamp: Timestamp | undefined, now: Date = new Date()): number | undefined {
  if (timestamp === undefined) {
    return undefined;
  }
  return Math.max(0, Math.floor((now.getTime() - timestampDate(timestamp).getTime()) / 86_400_000));
}
