import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';

import { AuthServerStandIn, MemoryStorage, provideSessionAgainst } from './auth-server.testing';
import { atStep, safeReturnUrl, signedIn, signedOut, withRole } from './guards';
import { SessionService } from './session';

@Component({ template: '' })
class Blank {}

describe('route guards', () => {
  let server: AuthServerStandIn;

  function setUp(storage = new MemoryStorage()): Router {
    TestBed.configureTestingModule({
      providers: [
        provideRouter([
          { path: 'sign-in', canActivate: [signedOut], component: Blank },
          { path: 'mfa/verify', canActivate: [atStep('verify-mfa')], component: Blank },
          { path: 'mfa/enrol', canActivate: [atStep('enrol-mfa', 'signed-in')], component: Blank },
          {
            path: '',
            canActivateChild: [signedIn],
            children: [
              { path: 'dashboard', component: Blank },
              { path: 'invoices', component: Blank },
              { path: 'audit', canActivate: [withRole('admin', 'auditor')], component: Blank },
            ],
          },
        ]),
        ...provideSessionAgainst(server, storage),
      ],
    });
    return TestBed.inject(Router);
  }

  beforeEach(() => {
    server = new AuthServerStandIn();
  });

  it('sends a signed-out user to sign in, remembering the page', async () => {
    const router = setUp();

    await router.navigateByUrl('/invoices?status=exception');

    expect(router.url).toBe('/sign-in?returnUrl=%2Finvoices%3Fstatus%3Dexception');
  });

  it('sends a user who must enrol MFA to the enrolment page, whatever they asked for', async () => {
    const router = setUp();
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');

    await router.navigateByUrl('/invoices');

    expect(router.url).toBe('/mfa/enrol?returnUrl=%2Finvoices');
  });

  it('sends an enrolled user who has not entered a code to the code page, and not to enrolment', async () => {
    server.mfaEnrolled = true;
    const router = setUp();
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');

    await router.navigateByUrl('/dashboard');
    expect(router.url).toBe('/mfa/verify');

    await router.navigateByUrl('/mfa/enrol');
    expect(router.url).toBe('/mfa/verify');
  });

  it('opens the workspace to a fully signed-in user and keeps them off the sign-in page', async () => {
    server.mfaEnrolled = true;
    const router = setUp();
    const session = TestBed.inject(SessionService);
    await session.signIn('admin@demo.test', 'correct horse');
    await session.verifyMfa({ totpCode: '123456' });

    await router.navigateByUrl('/invoices');
    expect(router.url).toBe('/invoices');

    await router.navigateByUrl('/sign-in?returnUrl=%2Faudit');
    expect(router.url).toBe('/audit');
  });

  it('keeps a role away from pages it cannot use', async () => {
    server.tenantRequiresMfa = false;
    server.role = 'clerk';
    const router = setUp();
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');

    await router.navigateByUrl('/audit');

    expect(router.url).toBe('/dashboard');
  });

  it('restores the session of a previous page load before deciding', async () => {
    server.tenantRequiresMfa = false;
    const storage = new MemoryStorage();
    const router = setUp(storage);
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    // A reload: a new app with the same tab storage.
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({
      providers: [
        provideRouter([
          { path: 'sign-in', component: Blank },
          { path: '', canActivateChild: [signedIn], children: [{ path: 'invoices', component: Blank }] },
        ]),
        ...provideSessionAgainst(server, storage),
      ],
    });
    const reloaded = TestBed.inject(Router);

    await reloaded.navigateByUrl('/invoices');

    expect(reloaded.url).toBe('/invoices');
    expect(router).not.toBe(reloaded);
  });

  it('returns only to pages of this app after sign-in', () => {
    expect(safeReturnUrl('/invoices?status=1')).toBe('/invoices?status=1');
    expect(safeReturnUrl('//evil.example/phish')).toBe('/dashboard');
    expect(safeReturnUrl('/\\evil.example')).toBe('/dashboard');
    expect(safeReturnUrl('https://evil.example')).toBe('/dashboard');
    expect(safeReturnUrl(null)).toBe('/dashboard');
  });
});
