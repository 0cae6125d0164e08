import { InjectionToken } from '@angular/core';
import { Code, ConnectError, createContextKey, type Interceptor } from '@connectrpc/connect';

/**
 * Where the transport gets the signed-in user's access token. The app provides the SessionService
 * (`session/session.ts`); without a provider nobody is signed in and calls go out without credentials.
 */
export interface AccessTokenSource {
  /** The current access token, or `undefined` when nobody is signed in. */
  current(): string | undefined;
  /**
   * Renews the session after the server rejected the current token (silent refresh).
   * Resolves to the new token, or `undefined` when the session cannot be renewed.
   */
  refresh(signal: AbortSignal): Promise<string | undefined>;
}

export const signedOut: AccessTokenSource = {
  current: () => undefined,
  refresh: () => Promise.resolve(undefined),
};

export const ACCESS_TOKEN_SOURCE = new InjectionToken<AccessTokenSource>('AccessTokenSource', {
  providedIn: 'root',
  factory: () => signedOut,
});

/**
 * Marks a call the bearer interceptor leaves alone: it adds no token and never refreshes. For calls
 * that need no credentials (sign-in, invitation acceptance, the refresh itself, which must not
 * refresh to renew a refresh) and for calls made inside a refresh with the new token set explicitly.
 * Usage: `client.refresh(request, { contextValues: createContextValues().set(withoutCredentials, true) })`.
 */
export const withoutCredentials = createContextKey(false, { description: 'call without credentials' });

/**
 * Sends the access token as `Authorization: Bearer …`. When the server answers `Unauthenticated`
 * to a unary call, the token is refreshed once and the call retried; a server stream is not
 * retried because its messages may already have reached the caller.
 */
export function bearerTokenInterceptor(tokens: AccessTokenSource): Interceptor {
  return (next) => async (request) => {
    const token = request.contextValues.get(withoutCredentials) ? undefined : tokens.current();
    if (token === undefined) {
      return next(request);
    }
    request.header.set('Authorization', `Bearer ${token}`);
    try {
      return await next(request);
    } catch (failure) {
      if (request.stream || ConnectError.from(failure).code !== Code.Unauthenticated) {
        throw failure;
      }
      const renewed = await tokens.refresh(request.signal);
      if (renewed === undefined) {
        throw failure;
      }
      request.header.set('Authorization', `Bearer ${renewed}`);
      return next(request);
    }
  };
}
