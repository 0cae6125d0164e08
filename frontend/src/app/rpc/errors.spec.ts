import { StringValueSchema } from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, createRouterTransport } from '@connectrpc/connect';

import { EchoService } from './echo-service.testing';
import { encodeErrorInfo } from './error-info.testing';
import { errorMappingInterceptor, RpcError } from './errors';

/** Connect's in-memory server: real protocol encoding, no network. */
function clientFor(implementation: Parameters<typeof createRouterTransport>[0]) {
  const transport = createRouterTransport(implementation, {
    transport: { interceptors: [errorMappingInterceptor] },
  });
  return createClient(EchoService, transport);
}

async function failureOf(call: Promise<unknown>): Promise<RpcError> {
  try {
    await call;
  } catch (failure) {
    expect(failure).toBeInstanceOf(RpcError);
    return failure as RpcError;
  }
  throw new Error('the call was expected to fail');
}

describe('errorMappingInterceptor', () => {
  it('shows the server message of a correctable error and exposes its ErrorInfo reason', async () => {
    const client = clientFor((router) =>
      router.service(EchoService, {
        echo() {
          const error = new ConnectError('Invoice INV-7 has no lines.', Code.InvalidArgument);
          error.details.push({
            type: 'google.rpc.ErrorInfo',
            value: encodeErrorInfo('INVOICE_HAS_NO_LINES', 'invisible.app', { invoice: 'INV-7' }),
          });
          throw error;
        },
      }),
    );

    const error = await failureOf(client.echo({ value: 'x' }));

    expect(error.message).toBe('Invoice INV-7 has no lines.');
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.reason).toBe('INVOICE_HAS_NO_LINES');
    expect(error.errorInfo).toEqual({
      reason: 'INVOICE_HAS_NO_LINES',
      domain: 'invisible.app',
      metadata: { invoice: 'INV-7' },
    });
    expect((error.cause as ConnectError).rawMessage).toBe('Invoice INV-7 has no lines.');
  });

  it('replaces the diagnostic text of a server fault with a generic sentence', async () => {
    const client = clientFor((router) =>
      router.service(EchoService, {
        echo() {
          throw new ConnectError('NullReferenceException at Matching.cs:42', Code.Internal);
        },
      }),
    );

    const error = await failureOf(client.echo({ value: 'x' }));

    expect(error.code).toBe(Code.Internal);
    expect(error.message).toBe(
      'Something went wrong on the server. Try again; if it keeps happening, contact your administrator.',
    );
    expect(error.reason).toBeUndefined();
    expect((error.cause as ConnectError).rawMessage).toBe('NullReferenceException at Matching.cs:42');
  });

  it('uses the wording of the code when the server sent no message', async () => {
    const client = clientFor((router) =>
      router.service(EchoService, {
        echo() {
          throw new ConnectError('', Code.PermissionDenied);
        },
      }),
    );

    const error = await failureOf(client.echo({ value: 'x' }));

    expect(error.message).toBe('You do not have permission to do this.');
  });

  it('maps an error raised in the middle of a server stream after the messages before it', async () => {
    const client = clientFor((router) =>
      router.service(EchoService, {
        async *repeat(request) {
          yield create(StringValueSchema, { value: request.value });
          throw new ConnectError('backend restarting', Code.Unavailable);
        },
      }),
    );

    const received: string[] = [];
    const error = await failureOf(
      (async () => {
        for await (const message of client.repeat({ value: 'first' })) {
          received.push(message.value);
        }
      })(),
    );

    expect(received).toEqual(['first']);
    expect(error.code).toBe(Code.Unavailable);
    expect(error.message).toBe('The server cannot be reached. Check your connection and try again.');
  });

  it('leaves errors that did not pass through it unmapped', () => {
    expect(new ConnectError('raw', Code.Internal)).not.toBeInstanceOf(RpcError);
  });
});
