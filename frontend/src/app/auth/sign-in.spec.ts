import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';

import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { SignIn } from './sign-in';

describe('SignIn', () => {
  let server: AuthServerStandIn;

  async function render() {
    server = new AuthServerStandIn();
    TestBed.configureTestingModule({
      providers: [provideRouter([{ path: '**', children: [] }]), ...provideSessionAgainst(server)],
    });
    const fixture = TestBed.createComponent(SignIn);
    const page = await renderUntil(fixture, (shown) => shown.querySelector('form') !== null);
    return { fixture, page };
  }

  function fill(page: HTMLElement, selector: string, value: string): void {
    const input = page.querySelector<HTMLInputElement>(selector)!;
    input.value = value;
    input.dispatchEvent(new Event('input'));
  }

  const submit = (page: HTMLElement) => page.querySelector('form')!.dispatchEvent(new Event('submit'));

  it('shows the server’s answer to a wrong password, not "your session has ended"', async () => {
    const { fixture, page } = await render();
    fill(page, '#email', 'admin@demo.test');
    fill(page, '#password', 'wrong');

    submit(page);
    await renderUntil(fixture, (shown) => shown.querySelector('[role="alert"]') !== null);

    expect(page.querySelector('[role="alert"]')?.textContent).toBe(
      'The e-mail address or password is incorrect.',
    );
    expect(page.querySelector('#email')?.getAttribute('aria-invalid')).toBe('true');
  });

  it('offers "Forgot password?" on the sign-in page', async () => {
    const { page } = await render();

    expect(page.querySelector('a#forgot-password')?.getAttribute('href')).toBe('/forgot-password');
  });

  it('asks for the organisation only when the address has accounts in several', async () => {
    const { fixture, page } = await render();
    expect(page.querySelector('#tenant')).toBeNull();
    fill(page, '#email', 'shared@demo.test');
    fill(page, '#password', 'correct horse');

    submit(page);
    await renderUntil(fixture, (shown) => shown.querySelector('#tenant') !== null);
    expect(page.querySelector('[role="alert"]')?.textContent).toContain('several organisations');

    const navigate = vi.spyOn(TestBed.inject(Router), 'navigateByUrl');
    fill(page, '#tenant', 'demo');
    submit(page);
    await renderUntil(fixture, () => navigate.mock.calls.length > 0);

    expect(String(navigate.mock.calls[0][0])).toBe('/mfa/enrol');
    expect(TestBed.inject(SessionService).status()).toBe('enrol-mfa');
  });
});
