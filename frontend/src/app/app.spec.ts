import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { DOCUMENT } from '@angular/core';
import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter, Router, TitleStrategy } from '@angular/router';

import { createRouterTransport } from '@connectrpc/connect';

import { App } from './app';
import { features, routes } from './app.routes';
import { PageTitle } from './page-title';
import { AuthServerStandIn, MemoryStorage, provideSessionAgainst } from './session/auth-server.testing';
import { SessionService } from './session/session';

/** The shell's providers as in the app, its session talking to `server` and keeping its token in `storage`. */
function shellProviders(server: AuthServerStandIn, storage?: Storage) {
  return [
    provideRouter(routes),
    { provide: TitleStrategy, useClass: PageTitle },
    provideHttpClient(),
    provideHttpClientTesting(),
    ...provideSessionAgainst(server, storage),
  ];
}

describe('App shell', () => {
  let fixture: ComponentFixture<App>;
  let router: Router;
  let page: HTMLElement;

  async function navigate(url: string): Promise<void> {
    await router.navigateByUrl(url);
    fixture.detectChanges();
  }

  beforeEach(async () => {
    const server = new AuthServerStandIn();
    server.tenantRequiresMfa = false;
    TestBed.configureTestingModule({ providers: shellProviders(server) });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    fixture = TestBed.createComponent(App);
    router = TestBed.inject(Router);
    page = fixture.nativeElement as HTMLElement;
    await navigate('/');
  });

  it('opens on the dashboard', () => {
    expect(router.url).toBe('/dashboard');
    expect(page.querySelector('h1')?.textContent).toBe('Dashboard');
    expect(page.querySelector('header app-user-menu button')?.textContent).toContain('admin@demo.test');
  });

  it('has a skip link, a labelled navigation and a main landmark', () => {
    const skipLink = page.querySelector('a.skip-link');
    expect(skipLink?.textContent).toBe('Skip to main content');
    expect(page.querySelector('nav')?.getAttribute('aria-label')).toBe('Main');
    expect(page.querySelector('main#main')).not.toBeNull();
    expect(page.querySelector('header app-status-indicator')).not.toBeNull();
  });

  it('links every section in the navigation, in order', () => {
    const links = Array.from(page.querySelectorAll('nav a'));

    expect(links.map((link) => link.textContent?.trim())).toEqual(features.map((feature) => feature.title));
    expect(links.map((link) => link.getAttribute('href'))).toEqual(
      features.map((feature) => `/${feature.path}`),
    );
  });

  it.each(features.map((feature) => [feature.path, feature.title]))(
    'shows the %s page with its heading, title and current link',
    async (path, title) => {
      await navigate(`/${path}`);

      expect(page.querySelector('main h1')?.textContent?.trim()).toBe(title);
      expect(TestBed.inject(DOCUMENT).title).toBe(`${title} · Invisible`);
      expect(page.querySelector('nav a[aria-current="page"]')?.textContent?.trim()).toBe(title);
    },
  );

  it('sends a signed-out user to the sign-in page without the navigation, and back afterwards', async () => {
    await TestBed.inject(SessionService).signOut();
    await navigate('/invoices');

    expect(router.url).toBe('/sign-in?returnUrl=%2Finvoices');
    expect(page.querySelector('main h1')?.textContent).toBe('Sign in');
    expect(page.querySelector('nav')).toBeNull();
  });

  it('hides the sections the role cannot use', async () => {
    const server = new AuthServerStandIn();
    server.tenantRequiresMfa = false;
    server.role = 'clerk';
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({ providers: shellProviders(server) });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    fixture = TestBed.createComponent(App);
    router = TestBed.inject(Router);
    page = fixture.nativeElement as HTMLElement;
    await navigate('/audit');

    expect(router.url).toBe('/dashboard');
    expect(Array.from(page.querySelectorAll('nav a')).map((link) => link.textContent?.trim())).not.toContain(
      'Audit log',
    );
  });

  it('says so when no page has the address', async () => {
    await navigate('/no-such-page');

    expect(page.querySelector('main h1')?.textContent).toBe('Page not found');
    expect(TestBed.inject(DOCUMENT).title).toBe('Page not found · Invisible');
  });

  it('moves focus to the page after navigating', async () => {
    await navigate('/invoices');

    expect(TestBed.inject(DOCUMENT).activeElement).toBe(page.querySelector('main'));
  });

  it('moves focus to the page from the skip link without leaving it', async () => {
    await navigate('/vendors');
    (page.querySelector('nav a') as HTMLElement).focus();

    (page.querySelector('a.skip-link') as HTMLElement).click();

    expect(TestBed.inject(DOCUMENT).activeElement).toBe(page.querySelector('main'));
    expect(router.url).toBe('/vendors');
  });
});

describe('App shell, first frame of a page load', () => {
  let storage: MemoryStorage;
  let server: AuthServerStandIn;

  /** A new page load in the same tab: a fresh injector over the tab's storage, rendered before any answer arrives. */
  function firstFrame(): HTMLElement {
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({ providers: shellProviders(server, storage) });
    const fixture = TestBed.createComponent(App);
    fixture.detectChanges();
    expect(TestBed.inject(SessionService).status()).toBe('restoring');
    return fixture.nativeElement as HTMLElement;
  }

  beforeEach(() => {
    server = new AuthServerStandIn();
    server.tenantRequiresMfa = false;
    storage = new MemoryStorage();
  });

  it('has the navigation beside the page already when the tab holds a signed-in session', async () => {
    TestBed.configureTestingModule({ providers: provideSessionAgainst(server, storage) });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');

    const page = firstFrame();

    expect(page.querySelector('.layout')?.classList).not.toContain('full-width');
    expect(page.querySelector('nav[aria-label="Main"]')).not.toBeNull();
    // Before the server has named the role, the sections every role has.
    expect(Array.from(page.querySelectorAll('nav a')).map((link) => link.textContent?.trim())).toEqual(
      features.filter((feature) => feature.roles === undefined).map((feature) => feature.title),
    );
  });

  it('keeps the page full width, without navigation, when the tab has no session', () => {
    const page = firstFrame();

    expect(page.querySelector('.layout')?.classList).toContain('full-width');
    expect(page.querySelector('nav')).toBeNull();
  });
});
