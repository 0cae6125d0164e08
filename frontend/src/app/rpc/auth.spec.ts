import { create } from '@bufbuild/protobuf';
import { StringValueSchema } from '@bufbuild/protobuf/wkt';
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Interceptor,
} from '@connectrpc/connect';

import { bearerTokenInterceptor, signedOut, type AccessTokenSource } from './auth';
import { EchoService } from './echo-service.testing';
import { RpcError } from './errors';
import { rpcInterceptors } from './transport';

/** A session whose token the server accepts only after one refresh. */
class ExpiringSession implements AccessTokenSource {
  token: string | undefined = 'expired-token';
  refreshes = 0;

  constructor(private readonly renewedToken: string | undefined) {}

  current(): string | undefined {
    return this.token;
  }

  refresh(): Promise<string | undefined> {
    this.refreshes++;
    this.token = this.renewedToken;
    return Promise.resolve(this.token);
  }
}

/**
 * Rejects the expired token the way a gRPC server does before sending any message (a
 * trailers-only response), so that unary and streaming calls fail when they are started.
 */
const rejectExpiredToken: Interceptor = (next) => async (request) => {
  if (request.header.get('Authorization') === 'Bearer expired-token') {
    throw new ConnectError('token expired', Code.Unauthenticated);
  }
  return next(request);
};

/** Echoes the Authorization header it received. */
function serverSeeingAuthorization(
  tokens: AccessTokenSource,
  interceptors = [bearerTokenInterceptor(tokens)],
) {
  const transport = createRouterTransport(
    (router) =>
      router.service(EchoService, {
        echo: (_request, context) =>
          create(StringValueSchema, { value: context.requestHeader.get('Authorization') ?? '(none)' }),
        async *repeat() {
          yield create(StringValueSchema, { value: 'streamed' });
        },
      }),
    { transport: { interceptors: [...interceptors, rejectExpiredToken] } },
  );
  return createClient(EchoService, transport);
}

describe('bearerTokenInterceptor', () => {
  it('sends no Authorization header when nobody is signed in', async () => {
    const client = serverSeeingAuthorization(signedOut);

    const reply = await client.echo({ value: 'x' });

    expect(reply.value).toBe('(none)');
  });

  it('sends the current access token as a bearer token', async () => {
    const client = serverSeeingAuthorization({
      current: () => 'abc.def.ghi',
      refresh: () => Promise.resolve(undefined),
    });

    const reply = await client.echo({ value: 'x' });

    expect(reply.value).toBe('Bearer abc.def.ghi');
  });

  it('refreshes a rejected token once and retries the call with the new one', async () => {
    const session = new ExpiringSession('renewed-token');
    const client = serverSeeingAuthorization(session);

    const reply = await client.echo({ value: 'x' });

    expect(reply.value).toBe('Bearer renewed-token');
    expect(session.refreshes).toBe(1);
  });

  it('reports the session as ended when it cannot be renewed', async () => {
    const session = new ExpiringSession(undefined);
    const client = serverSeeingAuthorization(session, rpcInterceptors(session));

    const failure = await client.echo({ value: 'x' }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(RpcError);
    expect((failure as RpcError).code).toBe(Code.Unauthenticated);
    expect((failure as RpcError).message).toBe('Your session has ended. Sign in again.');
    expect(session.refreshes).toBe(1);
  });

  it('does not retry a server stream', async () => {
    const session = new ExpiringSession('renewed-token');
    const client = serverSeeingAuthorization(session);

    const reading = (async () => {
      for await (const message of client.repeat({ value: 'x' })) {
        expect.unreachable(`the stream delivered "${message.value}" with an expired token`);
      }
    })();

    await expect(reading).rejects.toMatchObject({ code: Code.Unauthenticated });
    expect(session.refreshes).toBe(0);
  });
});
