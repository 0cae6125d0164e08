import type { Routes } from '@angular/router';

/** The workspace's sections, in navigation order; each page is loaded when first visited. */
export const features = [
  {
    path: 'dashboard',
    title: 'Dashboard',
    load: () => import('./dashboard/dashboard').then((m) => m.Dashboard),
  },
  { path: 'imports', title: 'Imports', load: () => import('./imports/imports').then((m) => m.Imports) },
  { path: 'invoices', title: 'Invoices', load: () => import('./invoices/invoices').then((m) => m.Invoices) },
  {
    path: 'exceptions',
    title: 'Exceptions',
    load: () => import('./exceptions/exceptions').then((m) => m.Exceptions),
  },
  { path: 'vendors', title: 'Vendors', load: () => import('./vendors/vendors').then((m) => m.Vendors) },
  { path: 'reports', title: 'Reports', load: () => import('./reports/reports').then((m) => m.Reports) },
  { path: 'settings', title: 'Settings', load: () => import('./settings/settings').then((m) => m.Settings) },
  { path: 'audit', title: 'Audit log', load: () => import('./audit/audit').then((m) => m.Audit) },
] as const;

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'dashboard' },
  ...features.map(({ path, title, load }) => ({ path, title, loadComponent: load })),
  { path: 'invoices/:invoiceId', title: 'Invoice', loadComponent: () => import('./invoices/invoice-detail').then((m) => m.InvoiceDetailPage) },
  {
    path: '**',
    title: 'Page not found',
    loadComponent: () => import('./not-found/not-found').then((m) => m.NotFound),
  },
];
