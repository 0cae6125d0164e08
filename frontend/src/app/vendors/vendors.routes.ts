import type { Routes } from '@angular/router';

export const vendorRoutes: Routes = [
  { path: '', loadComponent: () => import('./vendors').then((m) => m.Vendors) },
  {
    path: ':code',
    title: 'Vendor',
    loadComponent: () => import('./vendor-detail').then((m) => m.VendorDetailPage),
  },
];
