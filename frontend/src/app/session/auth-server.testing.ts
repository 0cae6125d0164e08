import { inject, type Provider } from '@angular/core';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  Code,
  ConnectError,
  createRouterTransport,
  type HandlerContext,
  type ConnectRouter,
} from '@connectrpc/connect';

import {
  AuthService,
  NextStep,
  SessionInfoSchema,
  SessionSchema,
  type Session,
} from '../../gen/invisible/auth/v1/auth_pb';
import { ACCESS_TOKEN_SOURCE } from '../rpc/auth';
import { encodeErrorInfo } from '../rpc/error-info.testing';
import { GRPC_TRANSPORT, rpcInterceptors } from '../rpc/transport';
import { SESSION_STORAGE, SessionService } from './session';

/** A Storage in memory, standing in for the tab's sessionStorage. */
export class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

interface IssuedPair {
  readonly family: number;
  readonly mfaSatisfied: boolean;
}

/**
 * An in-test stand-in of our own AuthService with the semantics auth.proto specifies: refresh tokens rotate on every
 * use, presenting a rotated one ends the whole session (its family), sign-out ends one session, sign-out everywhere
 * all of them. Accepts "admin@demo.test" / "correct horse" and the TOTP code "123456".
 */
export class AuthServerStandIn {
  role = 'admin';
  mfaEnrolled = false;
  tenantRequiresMfa = true;
  /** When set, access tokens are rejected as expired until refreshed. */
  accessTokenLifetimeMs = 15 * 60_000;

  readonly calls: string[] = [];
  /** The addresses "Forgot password?" was asked for; "reset-token" sets a password once, "expired-token" never. */
  readonly resetRequests: string[] = [];
  private resetTokenUsed = false;
  private next = 1;
  private readonly accessTokens = new Map<string, IssuedPair & { expiresAt: number }>();
  private readonly refreshTokens = new Map<string, IssuedPair & { used: boolean }>();
  private readonly endedFamilies = new Set<number>();

  /** Expires every access token now, as if the page had been idle for a while. */
  expireAccessTokens(): void {
    for (const [token, pair] of this.accessTokens) {
      this.accessTokens.set(token, { ...pair, expiresAt: 0 });
    }
  }

  issue(family: number, mfaSatisfied: boolean): Session {
    const id = this.next++;
    const accessToken = `access-${id}`;
    const refreshToken = `refresh-${id}`;
    const expiresAt = Date.now() + this.accessTokenLifetimeMs;
    this.accessTokens.set(accessToken, { family, mfaSatisfied, expiresAt });
    this.refreshTokens.set(refreshToken, { family, mfaSatisfied, used: false });
    return create(SessionSchema, {
      accessToken,
      accessTokenExpiresAt: timestampFromMs(expiresAt),
      refreshToken,
      refreshTokenExpiresAt: timestampFromMs(Date.now() + 14 * 86_400_000),
      mfaSatisfied,
    });
  }

  routes = (router: ConnectRouter): void => {
    router.service(AuthService, {
      signIn: (request) => {
        this.calls.push('SignIn');
        if (request.email === 'shared@demo.test' && request.tenantSlug === '') {
          throw withReason(
            new ConnectError(
              'This e-mail address has accounts in several organisations; choose one.',
              Code.FailedPrecondition,
            ),
            'TENANT_REQUIRED',
          );
        }
        if (
          !['admin@demo.test', 'shared@demo.test'].includes(request.email) ||
          request.password !== 'correct horse'
        ) {
          throw withReason(
            new ConnectError('The e-mail address or password is incorrect.', Code.Unauthenticated),
            'SIGN_IN_FAILED',
          );
        }
        const family = this.next++;
        const needsMfa = this.mfaEnrolled || this.tenantRequiresMfa;
        return {
          session: this.issue(family, !needsMfa),
          nextStep: this.mfaEnrolled ? NextStep.VERIFY_MFA : needsMfa ? NextStep.ENROL_MFA : NextStep.NONE,
        };
      },
      verifyMfa: (request, context) => {
        this.calls.push('VerifyMfa');
        const caller = this.caller(context);
        if (request.factor.case !== 'totpCode' || request.factor.value !== '123456') {
          throw new ConnectError('The code is not valid.', Code.PermissionDenied);
        }
        return this.issue(caller.family, true);
      },
      beginMfaEnrolment: (_request, context) => {
        this.calls.push('BeginMfaEnrolment');
        this.caller(context);
        return {
          otpauthUri: 'otpauth://totp/Invisible:admin%40demo.test?secret=JBSWY3DPEHPK3PXP&issuer=Invisible',
          secretBase32: 'JBSWY3DPEHPK3PXP',
        };
      },
      confirmMfaEnrolment: (request, context) => {
        this.calls.push('ConfirmMfaEnrolment');
        const caller = this.caller(context);
        if (request.totpCode !== '123456') {
          throw new ConnectError(
            'The code is not valid. Use the current code from your authenticator app.',
            Code.PermissionDenied,
          );
        }
        this.mfaEnrolled = true;
        return {
          recoveryCodes: Array.from({ length: 10 }, (_, index) => `rc${index}-abcd-efgh`),
          session: this.issue(caller.family, true),
        };
      },
      refresh: (request) => {
        this.calls.push('Refresh');
        const pair = this.refreshTokens.get(request.refreshToken);
        if (pair === undefined || this.endedFamilies.has(pair.family)) {
          throw new ConnectError('The session has ended. Sign in again.', Code.Unauthenticated);
        }
        if (pair.used) {
          // Reuse: someone holds a copy of a rotated token. End the whole session.
          this.endedFamilies.add(pair.family);
          throw new ConnectError('The session has ended. Sign in again.', Code.Unauthenticated);
        }
        this.refreshTokens.set(request.refreshToken, { ...pair, used: true });
        return this.issue(pair.family, pair.mfaSatisfied);
      },
      signOut: (_request, context) => {
        this.calls.push('SignOut');
        this.endedFamilies.add(this.caller(context).family);
        return {};
      },
      signOutEverywhere: (_request, context) => {
        this.calls.push('SignOutEverywhere');
        this.caller(context);
        for (const pair of this.accessTokens.values()) {
          this.endedFamilies.add(pair.family);
        }
        return {};
      },
      requestPasswordReset: (request) => {
        this.calls.push('RequestPasswordReset');
        this.resetRequests.push(request.email);
        return {};
      },
      resetPassword: (request) => {
        this.calls.push('ResetPassword');
        if (request.token === 'expired-token') {
          throw withReason(
            new ConnectError('This link has expired. Ask for a new one.', Code.FailedPrecondition),
            'PASSWORD_RESET_EXPIRED',
          );
        }
        if (request.token !== 'reset-token' || this.resetTokenUsed) {
          throw withReason(
            new ConnectError(
              'This link was already used. To set another password, ask for a new link.',
              Code.FailedPrecondition,
            ),
            'PASSWORD_RESET_USED',
          );
        }
        this.resetTokenUsed = true;
        return {};
      },
      getSession: (_request, context) => {
        this.calls.push('GetSession');
        const caller = this.caller(context);
        return create(SessionInfoSchema, {
          tenantSlug: 'demo',
          email: 'admin@demo.test',
          role: this.role,
          mfaSatisfied: caller.mfaSatisfied,
          mfaEnrolled: this.mfaEnrolled,
          tenantRequiresMfa: this.tenantRequiresMfa,
        });
      },
    });
  };

  /** The session of the call's bearer token, or Unauthenticated as the real server answers. */
  caller(context: HandlerContext): IssuedPair {
    const token = context.requestHeader.get('Authorization')?.replace(/^Bearer /, '') ?? '';
    const pair = this.accessTokens.get(token);
    if (pair === undefined || pair.expiresAt <= Date.now() || this.endedFamilies.has(pair.family)) {
      throw new ConnectError('the access token has expired', Code.Unauthenticated);
    }
    return pair;
  }
}

/** Attaches google.rpc.ErrorInfo with `reason`, as the server's AuthErrors do. */
function withReason(error: ConnectError, reason: string): ConnectError {
  error.details.push({ type: 'google.rpc.ErrorInfo', value: encodeErrorInfo(reason, 'auth.invisible.app') });
  return error;
}

/**
 * The session service wired as in the app (one transport with the app's interceptors), talking to `server` and
 * keeping its refresh token in `storage`. `extraRoutes` adds other services of our API for component tests.
 */
export function provideSessionAgainst(
  server: AuthServerStandIn,
  storage: Storage = new MemoryStorage(),
  extraRoutes: (router: ConnectRouter) => void = () => undefined,
): Provider[] {
  return [
    { provide: SESSION_STORAGE, useValue: storage },
    { provide: ACCESS_TOKEN_SOURCE, useExisting: SessionService },
    {
      provide: GRPC_TRANSPORT,
      useFactory: () =>
        createRouterTransport(
          (router) => {
            server.routes(router);
            extraRoutes(router);
          },
          { transport: { interceptors: rpcInterceptors(inject(ACCESS_TOKEN_SOURCE)) } },
        ),
    },
  ];
}
