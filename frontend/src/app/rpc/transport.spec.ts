import { DOCUMENT } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Code } from '@connectrpc/connect';

import { ACCESS_TOKEN_SOURCE } from './auth';
import { EchoService } from './echo-service.testing';
import { RpcError } from './errors';
import { injectClient, provideGrpcWebTransport } from './transport';

describe('provideGrpcWebTransport', () => {
  let requests: { url: string; init: RequestInit }[];

  beforeEach(() => {
    requests = [];
    // Stands in for the product's gRPC-Web endpoint: answers every call the way it answers an
    // unknown invoice, with a trailers-only gRPC-Web response.
    vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
      requests.push({ url, init });
      return Promise.resolve(
        new Response(null, {
          status: 200,
          headers: {
            'Content-Type': 'application/grpc-web+proto',
            'grpc-status': String(Code.NotFound),
            'grpc-message': encodeURIComponent('Invoice INV-404 does not exist.'),
          },
        }),
      );
    });
    TestBed.configureTestingModule({
      providers: [
        provideGrpcWebTransport(),
        {
          provide: ACCESS_TOKEN_SOURCE,
          useValue: { current: () => 'token-1', refresh: () => Promise.resolve(undefined) },
        },
      ],
    });
  });

  afterEach(() => vi.unstubAllGlobals());

  it('calls gRPC-Web on the page origin with the bearer token and maps the error', async () => {
    const client = TestBed.runInInjectionContext(() => injectClient(EchoService));

    const failure = await client.echo({ value: 'x' }).catch((error: unknown) => error);

    const origin = TestBed.inject(DOCUMENT).location.origin;
    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe(`${origin}/test.v1.EchoService/Echo`);
    const headers = new Headers(requests[0].init.headers);
    expect(headers.get('Content-Type')).toBe('application/grpc-web+proto');
    expect(headers.get('Authorization')).toBe('Bearer token-1');
    expect(failure).toBeInstanceOf(RpcError);
    expect((failure as RpcError).code).toBe(Code.NotFound);
    expect((failure as RpcError).message).toBe('Invoice INV-404 does not exist.');
  });
});
