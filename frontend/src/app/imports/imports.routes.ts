import type { Routes } from '@angular/router';

export const importRoutes: Routes = [
  { path: '', loadComponent: () => import('./imports').then((m) => m.Imports) },
  {
    path: 'email',
    title: 'E-mail intake',
    loadComponent: () => import('./email/email-intake').then((m) => m.EmailIntake),
  },
];
