import type { Routes } from '@angular/router';

export const importRoutes: Routes = [
  { path: '', loadComponent: () => import('./imports').then((m) => m.Imports) },
  {
    path: 'email',
    title: 'E-mail intake',
    loadComponent: () => import('./email/email-intake').then((m) => m.EmailIntake),
  },
  {
    path: 'to-key',
    title: 'To key',
    loadComponent: () => import('./keying/to-key-list').then((m) => m.ToKeyList),
  },
  {
    path: 'to-key/:itemId',
    title: 'Key an invoice',
    loadComponent: () => import('./keying/keying').then((m) => m.Keying),
  },
];
