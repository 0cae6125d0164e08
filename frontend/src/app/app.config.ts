import { provideHttpClient, withFetch } from '@angular/common/http';
import { type ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter, TitleStrategy } from '@angular/router';

import { routes } from './app.routes';
import { PageTitle } from './page-title';
import { ACCESS_TOKEN_SOURCE } from './rpc/auth';
import { provideGrpcWebTransport } from './rpc/transport';
import { SessionService } from './session/session';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(routes),
    { provide: TitleStrategy, useClass: PageTitle },
    provideHttpClient(withFetch()),
    provideGrpcWebTransport(),
    { provide: ACCESS_TOKEN_SOURCE, useExisting: SessionService },
  ],
};
