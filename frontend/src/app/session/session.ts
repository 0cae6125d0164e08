import { computed, DestroyRef, inject, Injectable, InjectionToken, Injector, signal } from '@angular/core';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { Code, createClient, createContextValues, type Client } from '@connectrpc/connect';

import {
  AuthService,
  NextStep,
  type Session as IssuedSession,
  type SessionInfo,
} from '../../gen/invisible/auth/v1/auth_pb';
import { type AccessTokenSource, withoutCredentials } from '../rpc/auth';
import { toRpcError } from '../rpc/errors';
import { GRPC_TRANSPORT } from '../rpc/transport';

/**
 * Where the session is:
 * - `restoring`: the page has just loaded and the stored refresh token is being exchanged;
 * - `signed-out`: nobody is signed in;
 * - `verify-mfa`: password accepted, the user must enter a code from the authenticator app;
 * - `enrol-mfa`: password accepted, the organisation requires MFA and the user has none yet;
 * - `signed-in`: every call the user's role allows is open.
 */
export type SessionStatus = 'restoring' | 'signed-out' | 'verify-mfa' | 'enrol-mfa' | 'signed-in';

export type Role = 'admin' | 'approver' | 'clerk' | 'auditor';

/** Who is signed in, as the server reported it (AuthService.GetSession). */
export interface SignedInUser {
  readonly email: string;
  readonly role: Role | string;
  readonly tenantSlug: string;
  readonly mfaSatisfied: boolean;
  readonly mfaEnrolled: boolean;
  readonly tenantRequiresMfa: boolean;
}

/**
 * Where the refresh token is kept between page loads. `sessionStorage` rather than `localStorage` or memory:
 * - memory alone would sign the user out on every reload;
 * - `sessionStorage` ends with the tab, so a session does not outlive the window it was opened in, and it is not shared
 *   between tabs, so two tabs never rotate the same refresh token (the server treats a second use of a rotated token
 *   as theft and ends the session: auth.proto, Refresh);
 * - an HttpOnly cookie would be out of reach of scripts, but auth.proto returns the refresh token in the response body.
 * The access token is never stored: it lives in this service only. CSP (`script-src 'self'`) limits what a script
 * injected into the page could read.
 */
export const SESSION_STORAGE = new InjectionToken<Storage | undefined>('SessionStorage', {
  providedIn: 'root',
  factory: () => (typeof sessionStorage === 'undefined' ? undefined : sessionStorage),
});

/** How long before the access token expires it is renewed, so that calls (and live streams) never start with a stale one. */
export const REFRESH_AHEAD_MS = 60_000;

const storageKey = 'invisible.refresh-token';

interface StoredRefreshToken {
  readonly token: string;
  readonly expiresAt: number;
  /**
   * Whether the session had passed every sign-in step when it was stored. Only lays out the page before the session is
   * restored ({@link SessionService.workspaceLayout}); what the user may do is always the server's answer.
   */
  readonly signedIn?: boolean;
}

/**
 * The signed-in session: sign-in, the second factor, silent refresh, sign-out. It is the app's
 * {@link AccessTokenSource}, so every call through the gRPC-Web transport carries its access token.
 */
@Injectable({ providedIn: 'root' })
export class SessionService implements AccessTokenSource {
  // The transport depends on this service (for the token), so the client is made on first use, not at construction.
  private readonly injector = inject(Injector);
  private readonly storage = inject(SESSION_STORAGE);
  private clientInstance: Client<typeof AuthService> | undefined;

  private accessToken: string | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<string | undefined> | undefined;
  private restoring: Promise<void> | undefined;

  private readonly restored = signal(false);
  private readonly userState = signal<SignedInUser | undefined>(undefined);
  private readonly endedState = signal<string | undefined>(undefined);

  /** The signed-in user, or `undefined`. */
  readonly user = this.userState.asReadonly();

  /** Why the last session ended without the user signing out (shown on the sign-in page), if it did. */
  readonly endedBecause = this.endedState.asReadonly();

  readonly status = computed<SessionStatus>(() => {
    const user = this.userState();
    if (user === undefined) {
      return this.restored() ? 'signed-out' : 'restoring';
    }
    if (user.mfaSatisfied) {
      return 'signed-in';
    }
    if (user.mfaEnrolled) {
      return 'verify-mfa';
    }
    return user.tenantRequiresMfa ? 'enrol-mfa' : 'signed-in';
  });

  readonly role = computed(() => this.userState()?.role);

  /** Read once, as the page loads: whether the tab holds a session that had been fully signed in. */
  private readonly storedSessionSignedIn = this.readStoredToken()?.signedIn === true;

  /**
   * Whether the page is laid out as the workspace (section navigation beside the page) rather than full width (sign-in
   * and its steps). Known from the first frame: while the session of a previous page load is being restored, the tab's
   * stored session says whether it was fully signed in, so the navigation's column is there from the start instead of
   * pushing the page sideways once the server has answered.
   */
  readonly workspaceLayout = computed(() => {
    const status = this.status();
    return status === 'signed-in' || (status === 'restoring' && this.storedSessionSignedIn);
  });

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.refreshTimer));
  }

  /** True when the signed-in user has one of `roles`. The server enforces access; this only shapes the UI. */
  hasRole(...roles: Role[]): boolean {
    const role = this.role();
    return role !== undefined && (roles as string[]).includes(role);
  }

  // --- AccessTokenSource ------------------------------------------------------------------------

  current(): string | undefined {
    return this.accessToken;
  }

  /**
   * Exchanges the refresh token for a new pair. Concurrent callers share one exchange: the server rotates the token
   * on every use and ends the whole session when a rotated one comes back, so it must never be sent twice.
   */
  refresh(): Promise<string | undefined> {
    // Not cancelled with the call that asked for it: other calls may be waiting for the same exchange, and an exchange
    // cut off after the server rotated the token would lose the new one.
    this.refreshing ??= this.exchangeRefreshToken().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  // --- Lifecycle -----------------------------------------------------------------------------

  /**
   * Resolves once the session of a previous page load (if any) has been restored; route guards wait for it. A page
   * load keeps only the refresh token, so restoring means one Refresh and one GetSession.
   */
  ready(): Promise<void> {
    this.restoring ??= this.restore();
    return this.restoring;
  }

  /** Signs in with e-mail and password; returns what the user must do next. */
  async signIn(email: string, password: string, tenantSlug = ''): Promise<SessionStatus> {
    await this.ready();
    const response = await this.call(() =>
      this.client.signIn({ email, password, tenantSlug }, { contextValues: anonymous() }),
    );
    return this.adopt(response.session, response.nextStep);
  }

  /** Completes the sign-in with a code from the authenticator app or a recovery code. */
  async verifyMfa(factor: { totpCode: string } | { recoveryCode: string }): Promise<SessionStatus> {
    const request =
      'totpCode' in factor
        ? { factor: { case: 'totpCode' as const, value: factor.totpCode.trim() } }
        : { factor: { case: 'recoveryCode' as const, value: factor.recoveryCode.trim() } };
    const session = await this.call(() => this.client.verifyMfa(request));
    return this.adopt(session);
  }

  /** A new secret to scan, as an otpauth:// URI and as Base32. */
  beginMfaEnrolment(): Promise<{ otpauthUri: string; secretBase32: string }> {
    return this.call(() => this.client.beginMfaEnrolment({}));
  }

  /** Confirms the enrolment with a first code; returns the recovery codes, which the server never shows again. */
  async confirmMfaEnrolment(totpCode: string): Promise<readonly string[]> {
    const response = await this.call(() => this.client.confirmMfaEnrolment({ totpCode: totpCode.trim() }));
    await this.adopt(response.session);
    return response.recoveryCodes;
  }

  /** Sets the password of an invited user from the link's token and signs them in. */
  async acceptInvitation(
    invitationToken: string,
    password: string,
    displayName: string,
  ): Promise<SessionStatus> {
    await this.ready();
    const response = await this.call(() =>
      this.client.acceptInvitation(
        { invitationToken, password, displayName },
        { contextValues: anonymous() },
      ),
    );
    return this.adopt(response.session, response.nextStep);
  }

  /**
   * "Forgot password?": the server e-mails a one-time link if the address has an account, and answers the same either
   * way, so this resolves alike for every address (it fails only on a refused request, e.g. too many).
   */
  async requestPasswordReset(email: string, tenantSlug = ''): Promise<void> {
    await this.call(() =>
      this.client.requestPasswordReset({ email, tenantSlug }, { contextValues: anonymous() }),
    );
  }

  /** Sets a new password from the link's token. Signs nobody in: every session ends, and signing in asks for the second factor. */
  async resetPassword(token: string, newPassword: string): Promise<void> {
    await this.call(() => this.client.resetPassword({ token, newPassword }, { contextValues: anonymous() }));
  }

  /** Changes the user's password; the server ends every other session and renews this one. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    const session = await this.call(() => this.client.changePassword({ currentPassword, newPassword }));
    await this.adopt(session);
  }

  /** Ends this session on the server (when it can be reached) and here. */
  async signOut(): Promise<void> {
    try {
      if (this.accessToken !== undefined) {
        await this.client.signOut({});
      }
    } catch {
      // The session ends here regardless; the server lets its tokens expire if it could not be told.
    } finally {
      this.end(undefined);
    }
  }

  /** Ends every session of the user, on every device; failures are reported, since the user asked for a guarantee. */
  async signOutEverywhere(): Promise<void> {
    await this.call(() => this.client.signOutEverywhere({}));
    this.end(undefined);
  }

  // --- Internals -----------------------------------------------------------------------------

  private get client(): Client<typeof AuthService> {
    this.clientInstance ??= createClient(AuthService, this.injector.get(GRPC_TRANSPORT));
    return this.clientInstance;
  }

  private async call<T>(rpc: () => Promise<T>): Promise<T> {
    try {
      return await rpc();
    } catch (failure) {
      throw toRpcError(failure);
    }
  }

  private async restore(): Promise<void> {
    try {
      if (this.readStoredToken() !== undefined) {
        await this.refresh();
      }
    } finally {
      this.restored.set(true);
    }
  }

  private async exchangeRefreshToken(): Promise<string | undefined> {
    const stored = this.readStoredToken();
    if (stored === undefined) {
      return undefined;
    }
    try {
      const session = await this.client.refresh(
        { refreshToken: stored.token },
        { contextValues: anonymous() },
      );
      await this.adopt(session);
      return this.accessToken;
    } catch (failure) {
      const error = toRpcError(failure);
      if (error.code === Code.Unauthenticated || error.code === Code.PermissionDenied) {
        // Expired, revoked, or a rotated token presented again: the server has ended the session.
        this.end('Your session has ended. Sign in again.');
      }
      // Otherwise (server unreachable, call cancelled) the refresh token may still be good: keep it for the next try.
      return undefined;
    }
  }

  /** Takes over a session issued by the server and learns who it belongs to. */
  private async adopt(session: IssuedSession | undefined, nextStep?: NextStep): Promise<SessionStatus> {
    if (session === undefined || session.accessToken === '') {
      throw toRpcError(new Error('The server answered without a session.'));
    }
    this.accessToken = session.accessToken;
    this.storeRefreshToken(session.refreshToken, session.refreshTokenExpiresAt);
    this.scheduleRefresh(session.accessTokenExpiresAt);
    this.endedState.set(undefined);
    // With the new token given explicitly and no refresh on failure: this may run inside a refresh, which must not wait
    // for itself.
    const info = await this.call(() =>
      this.client.getSession(
        {},
        { contextValues: anonymous(), headers: { Authorization: `Bearer ${session.accessToken}` } },
      ),
    );
    this.userState.set(toUser(info));
    this.noteStoredSessionSignedIn(session.refreshToken, this.status() === 'signed-in');
    if (nextStep === NextStep.ENROL_MFA && !info.mfaEnrolled) {
      return 'enrol-mfa';
    }
    return this.status();
  }

  private scheduleRefresh(expiresAt: Timestamp | undefined): void {
    clearTimeout(this.refreshTimer);
    if (expiresAt === undefined) {
      return;
    }
    const delay = timestampDate(expiresAt).getTime() - Date.now() - REFRESH_AHEAD_MS;
    // At least a few seconds: a clock far off from the server's must not make the app refresh in a loop.
    this.refreshTimer = setTimeout(() => void this.refresh(), Math.max(delay, 5_000));
  }

  private end(reason: string | undefined): void {
    clearTimeout(this.refreshTimer);
    this.accessToken = undefined;
    this.storage?.removeItem(storageKey);
    this.userState.set(undefined);
    this.restored.set(true);
    this.endedState.set(reason);
  }

  private readStoredToken(): StoredRefreshToken | undefined {
    try {
      const stored = JSON.parse(this.storage?.getItem(storageKey) ?? 'null') as StoredRefreshToken | null;
      if (stored === null || typeof stored.token !== 'string' || stored.expiresAt <= Date.now()) {
        return undefined;
      }
      return stored;
    } catch {
      return undefined;
    }
  }

  private storeRefreshToken(token: string, expiresAt: Timestamp | undefined): void {
    if (token === '') {
      return;
    }
    const stored: StoredRefreshToken = {
      token,
      expiresAt: expiresAt === undefined ? Number.MAX_SAFE_INTEGER : timestampDate(expiresAt).getTime(),
    };
    this.storage?.setItem(storageKey, JSON.stringify(stored));
  }

  /**
   * Records, once the server has said who the session belongs to, whether it is fully signed in, for the layout of the
   * next page load. Only while `token` is still the stored one: a refresh in the meantime has stored a newer token, and
   * writing back a rotated one would end the session at its next use.
   */
  private noteStoredSessionSignedIn(token: string, signedIn: boolean): void {
    const stored = this.readStoredToken();
    if (stored !== undefined && stored.token === token) {
      this.storage?.setItem(storageKey, JSON.stringify({ ...stored, signedIn } satisfies StoredRefreshToken));
    }
  }
}

function anonymous() {
  return createContextValues().set(withoutCredentials, true);
}

function toUser(info: SessionInfo): SignedInUser {
  return {
    email: info.email,
    role: info.role,
    tenantSlug: info.tenantSlug,
    mfaSatisfied: info.mfaSatisfied,
    mfaEnrolled: info.mfaEnrolled,
    tenantRequiresMfa: info.tenantRequiresMfa,
  };
}
