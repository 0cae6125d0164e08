import { lineAmount, linesTotal } from './keyed-lines';

describe('keyed lines', () => {
  it('computes a line amount to cents, half away from zero, as the server checks it', () => {
    expect([
      lineAmount('3', '0.335'),
      lineAmount('-3', '0.335'),
      lineAmount('10', '10.00'),
      lineAmount('x', '1'),
    ]).toEqual(['1.01', '-1.01', '100.00', undefined]);
  });

  it('adds the lines and tax, and has no total while an amount is not a number of cents', () => {
    const line = { sku: '', description: 'Paper', quantity: '10', unitPrice: '10', amount: '100.00' };
    expect([
      linesTotal([line, { ...line, amount: '320.00' }], '84.00'),
      linesTotal([{ ...line, amount: '1.005' }], ''),
    ]).toEqual(['504.00', undefined]);
  });
});
