import type { Route, Routes } from '@angular/router';

import { atStep, signedIn, signedOut, withRole } from './session/guards';
import type { Role } from './session/session';

interface Feature {
  readonly path: string;
  readonly title: string;
  readonly load: NonNullable<Route['loadComponent']> | undefined;
  readonly children?: NonNullable<Route['loadChildren']>;
  /** Who sees the section; everyone when absent. The server enforces access whatever the UI shows. */
  readonly roles?: readonly Role[];
}

/** The workspace's sections, in navigation order; each page is loaded when first visited. */
export const features: readonly Feature[] = [
  {
    path: 'dashboard',
    title: 'Dashboard',
    load: () => import('./dashboard/dashboard').then((m) => m.Dashboard),
  },
  {
    path: 'imports',
    title: 'Imports',
    load: undefined,
    children: () => import('./imports/imports.routes').then((m) => m.importRoutes),
  },
  {
    path: 'invoices',
    title: 'Invoices',
    load: undefined,
    children: () => import('./invoices/invoices.routes').then((m) => m.invoiceRoutes),
  },
  {
    path: 'exceptions',
    title: 'Exceptions',
    load: () => import('./exceptions/exceptions').then((m) => m.Exceptions),
  },
  {
    path: 'vendors',
    title: 'Vendors',
    load: undefined,
    children: () => import('./vendors/vendors.routes').then((m) => m.vendorRoutes),
  },
  { path: 'reports', title: 'Reports', load: () => import('./reports/reports').then((m) => m.Reports) },
  {
    path: 'settings',
    title: 'Settings',
    load: undefined,
    children: () => import('./settings/settings.routes').then((m) => m.settingsRoutes),
  },
  {
    path: 'audit',
    title: 'Audit log',
    load: () => import('./audit/audit').then((m) => m.Audit),
    roles: ['admin', 'auditor'],
  },
];

function featureRoute({ path, title, load, children, roles }: Feature): Route {
  return {
    path,
    title,
    ...(load === undefined ? {} : { loadComponent: load }),
    ...(children === undefined ? {} : { loadChildren: children }),
    ...(roles === undefined ? {} : { canActivate: [withRole(...roles)] }),
  };
}

export const routes: Routes = [
  {
    path: 'sign-in',
    title: 'Sign in',
    canActivate: [signedOut],
    loadComponent: () => import('./auth/sign-in').then((m) => m.SignIn),
  },
  {
    path: 'accept-invitation',
    title: 'Accept your invitation',
    canActivate: [signedOut],
    loadComponent: () => import('./auth/accept-invitation').then((m) => m.AcceptInvitation),
  },
  {
    // An e-mail's unsubscribe link works signed in or not.
    path: 'unsubscribe',
    title: 'Stop these e-mails',
    loadComponent: () => import('./notifications/unsubscribe').then((m) => m.Unsubscribe),
  },
  {
    path: 'forgot-password',
    title: 'Forgot your password',
    canActivate: [signedOut],
    loadComponent: () => import('./auth/forgot-password').then((m) => m.ForgotPassword),
  },
  {
    path: 'reset-password',
    title: 'Set a new password',
    canActivate: [signedOut],
    loadComponent: () => import('./auth/reset-password').then((m) => m.ResetPassword),
  },
  {
    path: 'mfa/verify',
    title: 'Enter your sign-in code',
    canActivate: [atStep('verify-mfa')],
    loadComponent: () => import('./auth/mfa-challenge').then((m) => m.MfaChallenge),
  },
  {
    path: 'mfa/enrol',
    title: 'Set up two-step sign-in',
    // Also for signed-in users who replace their authenticator app.
    canActivate: [atStep('enrol-mfa', 'signed-in')],
    loadComponent: () => import('./auth/mfa-enrolment').then((m) => m.MfaEnrolment),
  },
  {
    path: '',
    canActivateChild: [signedIn],
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'dashboard' },
      ...features.map(featureRoute),
      {
        path: '**',
        title: 'Page not found',
        loadComponent: () => import('./not-found/not-found').then((m) => m.NotFound),
      },
    ],
  },
];
