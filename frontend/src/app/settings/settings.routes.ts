import type { Routes } from '@angular/router';

import { withRole } from '../session/guards';

export const settingsRoutes: Routes = [
  {
    path: '',
    loadComponent: () => import('./settings').then((m) => m.Settings),
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'account' },
      {
        path: 'account',
        loadComponent: () => import('./account').then((m) => m.Account),
      },
      {
        path: 'users',
        title: 'Users and roles',
        canActivate: [withRole('admin')],
        loadComponent: () => import('./users').then((m) => m.Users),
      },
      {
        path: 'invitations',
        title: 'Invitations',
        canActivate: [withRole('admin')],
        loadComponent: () => import('./invitations').then((m) => m.Invitations),
      },
      {
        path: 'api-keys',
        title: 'API keys',
        canActivate: [withRole('admin')],
        loadComponent: () => import('./api-keys').then((m) => m.ApiKeys),
      },
      {
        path: 'security',
        title: 'Sign-in policy',
        canActivate: [withRole('admin')],
        loadComponent: () => import('./security').then((m) => m.Security),
      },
      {
        path: 'quickbooks',
        title: 'QuickBooks',
        loadComponent: () => import('./quickbooks').then((m) => m.QuickBooksSettings),
      },
      {
        path: 'mailbox',
        title: 'E-mail mailbox',
        canActivate: [withRole('admin')],
        loadComponent: () => import('./mailbox').then((m) => m.MailboxSettingsCard),
      },
      {
        path: 'approvals',
        title: 'Approvals',
        canActivate: [withRole('admin', 'approver')],
        loadComponent: () => import('./approvals').then((m) => m.Approvals),
      },
      {
        path: 'matching-model',
        title: 'Matching model',
        loadComponent: () => import('./matching-model').then((m) => m.MatchingModelCard),
      },
      {
        path: 'tolerances',
        title: 'Tolerances',
        loadComponent: () => import('./tolerances').then((m) => m.Tolerances),
      },
    ],
  },
];
