/** A line of the keying form, as typed. */
export interface LineDraft {
  sku: string;
  description: string;
  quantity: string;
  unitPrice: string;
  amount: string;
}

const decimal = /^-?\d+(\.\d+)?$/;

/** Whole units of 1/10,000, exact for what the form accepts (up to 4 decimals), or undefined when not a number. */
function tenThousandths(text: string): bigint | undefined {
  const value = text.trim();
  if (!decimal.test(value)) return undefined;
  const negative = value.startsWith('-');
  const [whole, fraction = ''] = value.replace('-', '').split('.');
  if (fraction.length > 4) return undefined;
  const units = BigInt(whole) * 10000n + BigInt(fraction.padEnd(4, '0'));
  return negative ? -units : units;
}

function formatCents(cents: bigint): string {
  const negative = cents < 0n;
  const absolute = negative ? -cents : cents;
  const text = `${absolute / 100n}.${(absolute % 100n).toString().padStart(2, '0')}`;
  return negative ? `-${text}` : text;
}

/** quantity × unit price to cents, half away from zero: the server's rule, so a line the form fills is one it accepts. */
export function lineAmount(quantity: string, unitPrice: string): string | undefined {
  const q = tenThousandths(quantity);
  const p = tenThousandths(unitPrice);
  if (q === undefined || p === undefined) return undefined;
  const product = q * p; // in 1/100,000,000
  const negative = product < 0n;
  const absolute = negative ? -product : product;
  const cents = (absolute + 500000n) / 1000000n;
  return formatCents(negative ? -cents : cents);
}

/** The sum of the lines' amounts plus tax, or undefined while one of them is not a number. */
export function linesTotal(lines: readonly LineDraft[], tax: string): string | undefined {
  let cents = 0n;
  for (const text of [...lines.map((line) => line.amount), tax.trim() === '' ? '0' : tax]) {
    const units = tenThousandths(text);
    if (units === undefined || units % 100n !== 0n) return undefined;
    cents += units / 100n;
  }
  return formatCents(cents);
}
