import { compareDecimals, formatMoney, formatQuantity } from './money';

describe('formatMoney', () => {
  it('formats a decimal string with its currency without rounding it through a float', () => {
    const formatted = formatMoney('12345678901234567.89', 'EUR');
    // 17 significant digits before the point: a double would print …568 or lose the cents.
    expect(formatted.replace(/[^\d.,]/g, '')).toMatch(/12.?345.?678.?901.?234.?567.89$/);
    expect(formatted).toContain('€');
  });

  it('shows an unknown currency code beside the amount', () => {
    expect(formatMoney('10.5', 'XYZ1')).toBe('10.5 XYZ1');
  });

  it('shows a dash for no amount', () => {
    expect(formatMoney('', 'EUR')).toBe('—');
  });
});

describe('compareDecimals', () => {
  it.each([
    ['10.50', '10.5', 0],
    ['10.4999', '10.5', -1],
    ['100', '99.9999', 1],
    ['-1', '0', -1],
    ['-0', '0', 0],
    ['-2.5', '-2.4', -1],
    ['0.10000000000000000001', '0.1', 1],
  ])('%s vs %s is %i', (left, right, expected) => {
    expect(compareDecimals(left, right)).toBe(expected);
  });
});

describe('formatQuantity', () => {
  it('drops trailing zeros of the fraction', () => {
    expect(formatQuantity('12.0000')).toBe('12');
    expect(formatQuantity('12.5000')).toBe('12.5');
    expect(formatQuantity('7')).toBe('7');
  });
});
