import type { Routes } from '@angular/router';

/**
 * The invoices section: the list and one invoice's 3-way view. For a shell whose features take child routes
 * (`loadChildren: () => import('./invoices/invoices.routes').then((m) => m.invoiceRoutes)`).
 */
export const invoiceRoutes: Routes = [
  { path: '', loadComponent: () => import('./invoices').then((m) => m.Invoices) },
  {
    path: ':invoiceId',
    title: 'Invoice',
    loadComponent: () => import('./invoice-detail').then((m) => m.InvoiceDetailPage),
  },
];
