import type { Routes } from '@angular/router';

export const vendorRoutes: Routes = [
  { path: '', loadComponent: () => import('./vendors').then((m) => m.Vendors) },
];
