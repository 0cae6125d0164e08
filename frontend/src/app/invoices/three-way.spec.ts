import { create } from '@bufbuild/protobuf';

import type { MessageInitShape } from '@bufbuild/protobuf';

import { InvoiceLineViewSchema, PoLineViewSchema } from '../../gen/invisible/matching/v1/matching_pb';
import { lineVariances } from './three-way';

const line = (
  invoiced: { quantity: string; price: string },
  po?: MessageInitShape<typeof PoLineViewSchema>,
) =>
  create(InvoiceLineViewSchema, {
    lineNo: 1,
    invoicedQuantity: invoiced.quantity,
    invoicedUnitPrice: invoiced.price,
    poLine: po === undefined ? undefined : create(PoLineViewSchema, po),
  });

describe('lineVariances', () => {
  it('flags nothing when price and quantities agree', () => {
    const variances = lineVariances(
      line(
        { quantity: '10', price: '4.50' },
        {
          orderedQuantity: '10.0000',
          unitPrice: '4.5000',
          receivedQuantity: '10',
          cumulativeInvoicedQuantity: '10',
          receiptRequired: true,
        },
      ),
    );
    expect(variances).toEqual({ price: false, quantity: false, notReceived: false, unmatched: false });
  });

  it('flags a price that differs and more invoiced than received (60 + 51 of 100)', () => {
    const variances = lineVariances(
      line(
        { quantity: '51', price: '4.60' },
        {
          orderedQuantity: '100',
          unitPrice: '4.50',
          receivedQuantity: '100',
          cumulativeInvoicedQuantity: '111',
          receiptRequired: true,
        },
      ),
    );
    expect(variances.price).toBe(true);
    expect(variances.quantity).toBe(true);
  });

  it('compares with the ordered quantity when no receipt is required, and flags lines without a PO line', () => {
    expect(
      lineVariances(
        line(
          { quantity: '5', price: '1' },
          {
            orderedQuantity: '5',
            unitPrice: '1',
            receivedQuantity: '0',
            cumulativeInvoicedQuantity: '5',
            receiptRequired: false,
          },
        ),
      ),
    ).toEqual({ price: false, quantity: false, notReceived: false, unmatched: false });
    expect(lineVariances(line({ quantity: '5', price: '1' })).unmatched).toBe(true);
  });

  it('flags a required receipt that has not arrived', () => {
    const variances = lineVariances(
      line(
        { quantity: '5', price: '1' },
        {
          orderedQuantity: '5',
          unitPrice: '1',
          receivedQuantity: '0',
          cumulativeInvoicedQuantity: '5',
          receiptRequired: true,
        },
      ),
    );
    expect(variances.notReceived).toBe(true);
    expect(variances.quantity).toBe(true);
  });
});
