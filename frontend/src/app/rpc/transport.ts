import { DOCUMENT, inject, InjectionToken, type Provider } from '@angular/core';
import type { DescService } from '@bufbuild/protobuf';
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';

import { ACCESS_TOKEN_SOURCE, bearerTokenInterceptor, type AccessTokenSource } from './auth';
import { errorMappingInterceptor } from './errors';

/** The app's one gRPC-Web transport; every generated client goes through it. */
export const GRPC_TRANSPORT = new InjectionToken<Transport>('GrpcWebTransport');

/** Error mapping is outermost so that it sees what is left after a token refresh and retry. */
export function rpcInterceptors(tokens: AccessTokenSource): Interceptor[] {
  return [errorMappingInterceptor, bearerTokenInterceptor(tokens)];
}

/** gRPC-Web to the origin that served the page: the product serves the app and its API together. */
export function provideGrpcWebTransport(): Provider {
  return {
    provide: GRPC_TRANSPORT,
    useFactory: () =>
      createGrpcWebTransport({
        baseUrl: inject(DOCUMENT).location.origin,
        interceptors: rpcInterceptors(inject(ACCESS_TOKEN_SOURCE)),
      }),
  };
}

/** A client for a generated service (from `src/gen`), e.g. `injectClient(InvoiceService)`. */
export function injectClient<Service extends DescService>(service: Service): Client<Service> {
  return createClient(service, inject(GRPC_TRANSPORT));
}
