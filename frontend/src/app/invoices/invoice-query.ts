import type { ParamMap, Params } from '@angular/router';

import { InvoiceSort, InvoiceStatus } from '../../gen/invisible/matching/v1/matching_pb';

/** The invoice list's filters, sort and page, as kept in the URL (`?status=exception&q=ACME&sort=total&desc=1`). */
export interface InvoiceQuery {
  readonly status: InvoiceStatus;
  readonly vendor: string;
  readonly query: string;
  readonly sort: InvoiceSort;
  readonly descending: boolean;
  readonly page: string;
}

const statusNames: Readonly<Record<string, InvoiceStatus>> = {
  pending: InvoiceStatus.PENDING,
  matched: InvoiceStatus.MATCHED,
  awaiting_receipt: InvoiceStatus.AWAITING_RECEIPT,
  exception: InvoiceStatus.EXCEPTION,
  no_po: InvoiceStatus.NO_PO,
  duplicate: InvoiceStatus.DUPLICATE,
};

const sortNames: Readonly<Record<string, InvoiceSort>> = {
  date: InvoiceSort.INVOICE_DATE,
  total: InvoiceSort.TOTAL,
  vendor: InvoiceSort.VENDOR,
  number: InvoiceSort.INVOICE_NUMBER,
};

function nameOf<T>(names: Readonly<Record<string, T>>, value: T): string | null {
  return Object.entries(names).find(([, candidate]) => candidate === value)?.[0] ?? null;
}

export function statusName(status: InvoiceStatus): string | null {
  return nameOf(statusNames, status);
}

export function sortName(sort: InvoiceSort): string | null {
  return nameOf(sortNames, sort);
}

/** Unknown values (an old bookmark, a typo) fall back to "no filter" rather than failing. */
export function readInvoiceQuery(params: ParamMap): InvoiceQuery {
  return {
    status: statusNames[params.get('status') ?? ''] ?? InvoiceStatus.UNSPECIFIED,
    vendor: params.get('vendor') ?? '',
    query: params.get('q') ?? '',
    sort: sortNames[params.get('sort') ?? ''] ?? InvoiceSort.UNSPECIFIED,
    descending: params.get('desc') === '1',
    page: params.get('page') ?? '',
  };
}

/** Query params for the URL; empty values are removed so URLs stay short and shareable. */
export function invoiceQueryParams(query: InvoiceQuery): Params {
  return {
    status: statusName(query.status),
    vendor: query.vendor.trim() || null,
    q: query.query.trim() || null,
    sort: sortName(query.sort),
    desc: query.descending ? '1' : null,
    page: query.page || null,
  };
}
