import { Pipe, type PipeTransform } from '@angular/core';

const formatters = new Map<string, Intl.NumberFormat>();

function formatterFor(currency: string): Intl.NumberFormat | undefined {
  const code = currency.trim().toUpperCase();
  let formatter = formatters.get(code);
  if (formatter === undefined) {
    try {
      formatter = new Intl.NumberFormat(undefined, { style: 'currency', currency: code });
    } catch {
      // Not an ISO 4217 code Intl knows: show the amount beside the code instead.
      return undefined;
    }
    formatters.set(code, formatter);
  }
  return formatter;
}

/**
 * "1234.5000" in EUR → "€1,234.50" (in the browser's locale). Amounts arrive as decimal strings and stay strings:
 * Intl formats a numeric string exactly (no float in between), so nothing here rounds money through a JS number.
 * A value that is not a decimal string is shown as it came, beside its currency.
 */
export function formatMoney(amount: string, currency: string): string {
  const value = amount.trim();
  if (value === '') {
    return '—';
  }
  const formatter = /^-?\d+(\.\d+)?$/.test(value) ? formatterFor(currency) : undefined;
  if (formatter === undefined) {
    return `${value} ${currency}`.trim();
  }
  // Intl.NumberFormat.format takes a numeric string as an exact decimal (ECMA-402 "StringNumericLiteral").
  return formatter.format(value as unknown as number);
}

/** `{{ invoice.invoiceTotal | money: invoice.currency }}` */
@Pipe({ name: 'money' })
export class MoneyPipe implements PipeTransform {
  transform(amount: string | undefined | null, currency: string | undefined | null): string {
    return formatMoney(amount ?? '', currency ?? '');
  }
}

/** Quantities are decimal strings too ("12.0000"): trailing zeros of the fraction are noise on screen. */
export function formatQuantity(quantity: string): string {
  const value = quantity.trim();
  if (!/^-?\d+\.\d+$/.test(value)) {
    return value === '' ? '—' : value;
  }
  return value.replace(/0+$/, '').replace(/\.$/, '');
}

@Pipe({ name: 'quantity' })
export class QuantityPipe implements PipeTransform {
  transform(quantity: string | undefined | null): string {
    return formatQuantity(quantity ?? '');
  }
}

/**
 * Compares two decimal strings exactly (no float): -1, 0 or 1. Used to highlight variances, never to compute money.
 */
export function compareDecimals(left: string, right: string): number {
  const a = splitDecimal(left);
  const b = splitDecimal(right);
  if (a.negative !== b.negative) {
    return isZero(a) && isZero(b) ? 0 : a.negative ? -1 : 1;
  }
  const magnitude = compareMagnitudes(a, b);
  return a.negative ? -magnitude : magnitude;
}

interface SplitDecimal {
  negative: boolean;
  whole: string;
  fraction: string;
}

function splitDecimal(text: string): SplitDecimal {
  const value = text.trim();
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = value.replace(/^[-+]/, '').split('.');
  return { negative, whole: whole.replace(/^0+/, '') || '0', fraction: fraction.replace(/0+$/, '') };
}

function isZero(value: SplitDecimal): boolean {
  return value.whole === '0' && value.fraction === '';
}

function compareMagnitudes(a: SplitDecimal, b: SplitDecimal): number {
  if (a.whole.length !== b.whole.length) {
    return a.whole.length < b.whole.length ? -1 : 1;
  }
  if (a.whole !== b.whole) {
    return a.whole < b.whole ? -1 : 1;
  }
  const width = Math.max(a.fraction.length, b.fraction.length);
  const fa = a.fraction.padEnd(width, '0');
  const fb = b.fraction.padEnd(width, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}
