import type { InvoiceLineView } from '../../gen/invisible/matching/v1/matching_pb';
import { compareDecimals } from '../shared/money';

/** What the 3-way view highlights on one line; computed by exact decimal comparison, never through floats. */
export interface LineVariances {
  /** Invoiced unit price differs from the PO line's. */
  readonly price: boolean;
  /** More invoiced (this and earlier invoices) than received, or than ordered when no receipt is required. */
  readonly quantity: boolean;
  /** Nothing received yet for a line that requires a receipt. */
  readonly notReceived: boolean;
  /** No PO line to compare with. */
  readonly unmatched: boolean;
}

export function lineVariances(line: InvoiceLineView): LineVariances {
  const po = line.poLine;
  if (po === undefined) {
    return { price: false, quantity: false, notReceived: false, unmatched: true };
  }
  const limit = po.receiptRequired ? po.receivedQuantity : po.orderedQuantity;
  const invoicedSoFar = po.cumulativeInvoicedQuantity || line.invoicedQuantity;
  return {
    price: po.unitPrice !== '' && compareDecimals(line.invoicedUnitPrice, po.unitPrice) !== 0,
    quantity: limit !== '' && compareDecimals(invoicedSoFar, limit) > 0,
    notReceived: po.receiptRequired && compareDecimals(po.receivedQuantity || '0', '0') === 0,
    unmatched: false,
  };
}
