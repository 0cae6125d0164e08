import type { Routes } from '@angular/router';

export const settingsRoutes: Routes = [
  { path: '', loadComponent: () => import('./settings').then((m) => m.Settings) },
];
