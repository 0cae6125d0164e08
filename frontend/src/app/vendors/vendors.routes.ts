import type { Routes } from '@angular/router';

export const vendorRoutes: Routes = [
  { path: '', loadComponent: () => import('./vendors').then((m) => m.Vendors) },
  {
    path: 'duplicates',
    title: 'Possible duplicates',
    loadComponent: () => import('./vendor-duplicates').then((m) => m.VendorDuplicates),
  },
  {
    path: ':code',
    title: 'Vendor',
    loadComponent: () => import('./vendor-detail').then((m) => m.VendorDetailPage),
  },
];
