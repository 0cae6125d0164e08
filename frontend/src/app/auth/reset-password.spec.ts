import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';

import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { renderUntil } from '../shared/settle.testing';
import { ResetPassword } from './reset-password';

describe('ResetPassword', () => {
  let server: AuthServerStandIn;

  async function open(url: string) {
    server ??= new AuthServerStandIn();
    TestBed.configureTestingModule({
      providers: [
        provideRouter([
          { path: 'reset-password', component: ResetPassword },
          { path: '**', children: [] },
        ]),
        ...provideSessionAgainst(server),
      ],
    });
    const harness = await RouterTestingHarness.create();
    await harness.navigateByUrl(url);
    const page = await renderUntil(harness.fixture, (shown) => shown.querySelector('h1') !== null);
    return { fixture: harness.fixture, page };
  }

  function fill(page: HTMLElement, selector: string, value: string): void {
    const input = page.querySelector<HTMLInputElement>(selector)!;
    input.value = value;
    input.dispatchEvent(new Event('input'));
  }

  async function setPassword(url: string, password: string, repeat = password) {
    const { fixture, page } = await open(url);
    fill(page, '#new-password', password);
    fill(page, '#repeat-password', repeat);
    page.querySelector('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, (shown) => shown.querySelector('[role="status"], [role="alert"]') !== null);
    return page;
  }

  beforeEach(() => {
    server = new AuthServerStandIn();
  });

  it('sets the password from the token in the fragment and sends the person to sign in', async () => {
    const page = await setPassword('/reset-password#token=reset-token', 'a long new passphrase');

    expect(server.calls).toContain('ResetPassword');
    expect(page.querySelector('#password-reset')?.textContent).toContain('authenticator app');
    expect(page.querySelector('a[href="/sign-in"]')).not.toBeNull();
  });

  it('says a used link was already used and offers a new one', async () => {
    await setPassword('/reset-password#token=reset-token', 'a long new passphrase');
    TestBed.resetTestingModule();

    const page = await setPassword('/reset-password#token=reset-token', 'another long passphrase');

    expect(page.querySelector('#reset-error')?.textContent).toContain('already used');
    expect(page.querySelector('#new-link')).not.toBeNull();
    expect(page.querySelector('form')).toBeNull();
  });

  it('says an expired link has expired', async () => {
    const page = await setPassword('/reset-password#token=expired-token', 'a long new passphrase');

    expect(page.querySelector('#reset-error')?.textContent).toBe('This link has expired. Ask for a new one.');
  });

  it('refuses two different passwords without calling the server', async () => {
    const page = await setPassword(
      '/reset-password#token=reset-token',
      'a long new passphrase',
      'something else',
    );

    expect(page.querySelector('#reset-error')?.textContent).toBe('The two passwords are not the same.');
    expect(server.calls).not.toContain('ResetPassword');
  });

  it('explains a link without a token', async () => {
    const { page } = await open('/reset-password');

    expect(page.querySelector('[role="alert"]')?.textContent).toContain('no token');
  });
});
