import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { renderUntil } from '../shared/settle.testing';
import { ForgotPassword } from './forgot-password';

describe('ForgotPassword', () => {
  let server: AuthServerStandIn;

  async function render() {
    server = new AuthServerStandIn();
    TestBed.configureTestingModule({
      providers: [provideRouter([{ path: '**', children: [] }]), ...provideSessionAgainst(server)],
    });
    const fixture = TestBed.createComponent(ForgotPassword);
    const page = await renderUntil(fixture, (shown) => shown.querySelector('form') !== null);
    return { fixture, page };
  }

  function fill(page: HTMLElement, selector: string, value: string): void {
    const input = page.querySelector<HTMLInputElement>(selector)!;
    input.value = value;
    input.dispatchEvent(new Event('input'));
  }

  async function requestFor(email: string): Promise<string> {
    const { fixture, page } = await render();
    fill(page, '#email', email);
    page.querySelector('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, (shown) => shown.querySelector('#reset-requested') !== null);
    return page.querySelector('#reset-requested')!.textContent!.replace(email, '<address>').trim();
  }

  it('confirms with the same words whether or not the address has an account', async () => {
    const known = await requestFor('admin@demo.test');
    const knownRequests = server.resetRequests;
    TestBed.resetTestingModule();
    const unknown = await requestFor('nobody@demo.test');

    expect(knownRequests).toEqual(['admin@demo.test']);
    expect(server.resetRequests).toEqual(['nobody@demo.test']);
    expect(unknown).toBe(known);
    expect(known).toContain('30 minutes');
  });

  it('asks for an address before calling the server', async () => {
    const { fixture, page } = await render();

    page.querySelector('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, (shown) => shown.querySelector('[role="alert"]') !== null);

    expect(page.querySelector('[role="alert"]')?.textContent).toContain('e-mail address');
    expect(server.calls).not.toContain('RequestPasswordReset');
  });
});
