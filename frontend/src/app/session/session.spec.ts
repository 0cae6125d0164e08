import { TestBed } from '@angular/core/testing';
import { Code } from '@connectrpc/connect';

import { AuthServerStandIn, MemoryStorage, provideSessionAgainst } from './auth-server.testing';
import { SessionService } from './session';

describe('SessionService', () => {
  let server: AuthServerStandIn;
  let storage: MemoryStorage;

  function startPage(): SessionService {
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({ providers: provideSessionAgainst(server, storage) });
    return TestBed.inject(SessionService);
  }

  async function signedInSession(): Promise<SessionService> {
    server.mfaEnrolled = true;
    const session = startPage();
    await session.signIn('admin@demo.test', 'correct horse');
    await session.verifyMfa({ totpCode: '123456' });
    return session;
  }

  beforeEach(() => {
    server = new AuthServerStandIn();
    storage = new MemoryStorage();
  });

  it('is signed out when the tab has no session', async () => {
    const session = startPage();

    expect(session.status()).toBe('restoring');
    await session.ready();

    expect(session.status()).toBe('signed-out');
    expect(session.current()).toBeUndefined();
    expect(server.calls).toEqual([]);
  });

  it('asks a user without a second factor to enrol when the organisation requires one', async () => {
    const session = startPage();

    const next = await session.signIn('admin@demo.test', 'correct horse');

    expect(next).toBe('enrol-mfa');
    expect(session.status()).toBe('enrol-mfa');
    expect(session.user()?.email).toBe('admin@demo.test');
  });

  it('asks an enrolled user for a code, then is signed in with the role the server reports', async () => {
    server.mfaEnrolled = true;
    server.role = 'auditor';
    const session = startPage();

    expect(await session.signIn('admin@demo.test', 'correct horse')).toBe('verify-mfa');
    expect(await session.verifyMfa({ totpCode: '123456' })).toBe('signed-in');

    expect(session.status()).toBe('signed-in');
    expect(session.hasRole('admin', 'auditor')).toBe(true);
    expect(session.hasRole('admin')).toBe(false);
  });

  it('shows the server’s answer to a wrong password and stays signed out', async () => {
    const session = startPage();

    const failure = await session.signIn('admin@demo.test', 'wrong').catch((error: unknown) => error);

    expect((failure as { code: Code }).code).toBe(Code.Unauthenticated);
    expect(session.status()).toBe('signed-out');
    expect(storage.length).toBe(0);
  });

  it('keeps only the refresh token in storage and restores the session on a reload', async () => {
    const first = await signedInSession();
    const accessToken = first.current();
    expect(
      JSON.stringify([...Array(storage.length).keys()].map((i) => storage.getItem(storage.key(i)!))),
    ).not.toContain(accessToken!);

    const reloaded = startPage();
    await reloaded.ready();

    expect(reloaded.status()).toBe('signed-in');
    expect(reloaded.current()).toBeDefined();
    expect(reloaded.current()).not.toBe(accessToken);
  });

  describe('the layout of a page load, known before the server answers', () => {
    /** Loads the page again in this tab: the layout while the session is restored, and once it is. */
    async function layoutOfNextPageLoad() {
      const session = startPage();
      expect(session.status()).toBe('restoring');
      const whileRestoring = session.workspaceLayout() ? 'workspace' : 'full width';
      await session.ready();
      return {
        whileRestoring,
        status: session.status(),
        restored: session.workspaceLayout() ? 'workspace' : 'full width',
      };
    }

    it('is the workspace when the tab holds a fully signed-in session', async () => {
      await signedInSession();

      expect(await layoutOfNextPageLoad()).toEqual({
        whileRestoring: 'workspace',
        status: 'signed-in',
        restored: 'workspace',
      });
    });

    it('is full width when the tab has no session', async () => {
      expect(await layoutOfNextPageLoad()).toEqual({
        whileRestoring: 'full width',
        status: 'signed-out',
        restored: 'full width',
      });
    });

    it('is full width when the stored session still has a second factor to enter', async () => {
      server.mfaEnrolled = true;
      await startPage().signIn('admin@demo.test', 'correct horse');

      expect(await layoutOfNextPageLoad()).toEqual({
        whileRestoring: 'full width',
        status: 'verify-mfa',
        restored: 'full width',
      });
    });

    it('turns full width when the stored session has ended on the server', async () => {
      await signedInSession();
      const copy = new MemoryStorage();
      copy.setItem(storage.key(0)!, storage.getItem(storage.key(0)!)!);
      await startPage().ready(); // rotates the token the copy holds
      storage = copy;

      expect(await layoutOfNextPageLoad()).toEqual({
        whileRestoring: 'workspace',
        status: 'signed-out',
        restored: 'full width',
      });
    });

    it('is full width after signing out', async () => {
      const session = await signedInSession();
      await session.signOut();

      expect(session.workspaceLayout()).toBe(false);
      expect((await layoutOfNextPageLoad()).whileRestoring).toBe('full width');
    });
  });

  it('refreshes an expired access token silently and retries the call', async () => {
    const session = await signedInSession();
    const before = session.current();
    server.expireAccessTokens();
    server.calls.length = 0;

    const status = await session.beginMfaEnrolment();

    expect(status.secretBase32).toBe('JBSWY3DPEHPK3PXP');
    expect(server.calls).toEqual(['BeginMfaEnrolment', 'Refresh', 'GetSession', 'BeginMfaEnrolment']);
    expect(session.current()).not.toBe(before);
    expect(session.status()).toBe('signed-in');
  });

  it('sends the refresh token once when several calls find the access token expired together', async () => {
    const session = await signedInSession();
    server.expireAccessTokens();
    server.calls.length = 0;

    await Promise.all([
      session.beginMfaEnrolment(),
      session.beginMfaEnrolment(),
      session.beginMfaEnrolment(),
    ]);

    expect(server.calls.filter((call) => call === 'Refresh')).toHaveLength(1);
    expect(session.status()).toBe('signed-in');
  });

  it('ends the session when the server detects a reused refresh token', async () => {
    await signedInSession();
    // A duplicated tab starts with a copy of the storage and rotates the refresh token first.
    const stolen = new MemoryStorage();
    stolen.setItem(storage.key(0)!, storage.getItem(storage.key(0)!)!);
    const copy = startPage();
    await copy.ready();
    expect(copy.status()).toBe('signed-in');

    // The other copy still holds the rotated token: presenting it again is reuse.
    storage = stolen;
    const original = startPage();
    await original.ready();

    expect(original.status()).toBe('signed-out');
    expect(original.endedBecause()).toBe('Your session has ended. Sign in again.');
    expect(stolen.length).toBe(0);
  });

  it('signs out: the server ends the session and the tab forgets it', async () => {
    const session = await signedInSession();

    await session.signOut();

    expect(server.calls).toContain('SignOut');
    expect(session.status()).toBe('signed-out');
    expect(session.current()).toBeUndefined();
    expect(session.endedBecause()).toBeUndefined();
    expect(storage.length).toBe(0);
    const reloaded = startPage();
    await reloaded.ready();
    expect(reloaded.status()).toBe('signed-out');
  });

  it('signs out everywhere: another tab’s session ends at its next refresh', async () => {
    const session = await signedInSession();
    const otherStorage = new MemoryStorage();
    storage = otherStorage;
    server.mfaEnrolled = true;
    const other = startPage();
    await other.signIn('admin@demo.test', 'correct horse');
    await other.verifyMfa({ totpCode: '123456' });

    await other.signOutEverywhere();
    server.calls.length = 0;
    const failure = await session.beginMfaEnrolment().catch((error: unknown) => error);

    expect((failure as { code: Code }).code).toBe(Code.Unauthenticated);
    expect(server.calls).toEqual(['BeginMfaEnrolment', 'Refresh']);
    expect(session.status()).toBe('signed-out');
  });
});
