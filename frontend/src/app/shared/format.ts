import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A server timestamp in the reader's locale and time zone; `fallback` when the server sent none. */
export function formatTimestamp(timestamp: Timestamp | undefined, fallback = '—'): string {
  return timestamp === undefined ? fallback : dateTime.format(timestampDate(timestamp));
}

/**
 * A decimal-string amount with its currency, for display only. The string is never used for arithmetic; Intl formats
 * it from the string itself where the browser supports that (no float rounding), else from the parsed number.
 */
export function formatMoney(amount: string, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(
      amount as unknown as number,
    );
  } catch {
    return `${amount} ${currency}`;
  }
}
