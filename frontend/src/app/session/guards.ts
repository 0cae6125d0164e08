import { inject } from '@angular/core';
import { type CanActivateFn, Router, type UrlTree } from '@angular/router';

import { type Role, SessionService, type SessionStatus } from './session';

// Guards read what they need from the injector before their first `await`: after it there is no injection context.

/** Where each unfinished session has to go before the workspace opens. */
const stepPages: Partial<Record<SessionStatus, string>> = {
  'signed-out': '/sign-in',
  'verify-mfa': '/mfa/verify',
  'enrol-mfa': '/mfa/enrol',
};

/**
 * The workspace is for fully signed-in users: signed-out users go to the sign-in page, users with a second factor
 * to enter or to set up go to that step. The page they asked for comes back after it (`returnUrl`).
 */
export const signedIn: CanActivateFn = async (_route, state) => {
  const session = inject(SessionService);
  const router = inject(Router);
  await session.ready();
  const step = stepPages[session.status()];
  return step === undefined
    ? true
    : router.createUrlTree([step], { queryParams: returnUrlParams(state.url) });
};

/** Pages of a role (the server enforces access; this spares users pages that would only show "permission denied"). */
export function withRole(...roles: Role[]): CanActivateFn {
  return async () => {
    const session = inject(SessionService);
    const router = inject(Router);
    await session.ready();
    return session.hasRole(...roles) ? true : router.createUrlTree(['/dashboard']);
  };
}

/** The sign-in and invitation pages are for people without a session; a signed-in user goes on to the workspace. */
export const signedOut: CanActivateFn = async (route) => {
  const session = inject(SessionService);
  const router = inject(Router);
  await session.ready();
  return session.status() === 'signed-out'
    ? true
    : continueFrom(router, session.status(), route.queryParamMap.get('returnUrl'));
};

/** The MFA pages need a session that has passed the password step; `status` is the step the page handles. */
export function atStep(...statuses: SessionStatus[]): CanActivateFn {
  return async (route) => {
    const session = inject(SessionService);
    const router = inject(Router);
    await session.ready();
    return statuses.includes(session.status())
      ? true
      : continueFrom(router, session.status(), route.queryParamMap.get('returnUrl'));
  };
}

/** Where a user in `status` goes next: the next sign-in step, or the page they first asked for. */
export function continueFrom(
  router: Router,
  status: SessionStatus,
  returnUrl: string | null | undefined,
): UrlTree {
  const step = stepPages[status];
  if (step !== undefined) {
    return router.createUrlTree([step], { queryParams: returnUrlParams(returnUrl) });
  }
  return router.parseUrl(safeReturnUrl(returnUrl));
}

/** Only paths of this app: an address like `//evil.example` or `https://…` in the link must not lead elsewhere. */
export function safeReturnUrl(returnUrl: string | null | undefined): string {
  return returnUrl !== null && returnUrl !== undefined && /^\/(?![/\\])/.test(returnUrl)
    ? returnUrl
    : '/dashboard';
}

function returnUrlParams(url: string | null | undefined): Record<string, string> {
  const target = safeReturnUrl(url);
  return target === '/dashboard' || target === '/' ? {} : { returnUrl: target };
}
