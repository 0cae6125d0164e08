import { convertToParamMap } from '@angular/router';

import { InvoiceSort, InvoiceStatus } from '../../gen/invisible/matching/v1/matching_pb';
import { invoiceQueryParams, readInvoiceQuery } from './invoice-query';

describe('invoice query in the URL', () => {
  it('round-trips filters, sort and page through query params', () => {
    const query = {
      status: InvoiceStatus.EXCEPTION,
      vendor: 'V-001',
      query: 'INV-7',
      sort: InvoiceSort.TOTAL,
      descending: true,
      page: 'token-2',
    };
    const params = invoiceQueryParams(query);

    expect(params).toEqual({
      status: 'exception',
      vendor: 'V-001',
      q: 'INV-7',
      sort: 'total',
      desc: '1',
      page: 'token-2',
    });
    expect(readInvoiceQuery(convertToParamMap(params))).toEqual(query);
  });

  it('reads unknown values as no filter and leaves empty ones out of the URL', () => {
    const query = readInvoiceQuery(convertToParamMap({ status: 'bogus', sort: 'nope' }));

    expect(query.status).toBe(InvoiceStatus.UNSPECIFIED);
    expect(query.sort).toBe(InvoiceSort.UNSPECIFIED);
    expect(invoiceQueryParams(query)).toEqual({
      status: null,
      vendor: null,
      q: null,
      sort: null,
      desc: null,
      page: null,
    });
  });
});
