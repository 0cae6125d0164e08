import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import jsQR from 'jsqr';

import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { renderUntil } from '../shared/settle.testing';
import { SessionService } from '../session/session';
import { MfaEnrolment } from './mfa-enrolment';
import { qrMatrix } from './qr-code';

/**
 * Rasterises the QR code as the page draws it (the SVG's viewBox and path of unit squares) into RGBA pixels, `scale`
 * pixels per module, so that a real decoder reads what a phone camera would.
 */
function rasterise(svg: SVGSVGElement, scale = 4): { pixels: Uint8ClampedArray; size: number } {
  const extent = Number(svg.getAttribute('viewBox')!.split(' ')[2]);
  const size = extent * scale;
  const pixels = new Uint8ClampedArray(size * size * 4).fill(255);
  const d = svg.querySelector('path')!.getAttribute('d')!;
  for (const [, x, y] of d.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
    for (let dy = 0; dy < scale; dy++) {
      for (let dx = 0; dx < scale; dx++) {
        const offset = ((Number(y) * scale + dy) * size + Number(x) * scale + dx) * 4;
        pixels[offset] = pixels[offset + 1] = pixels[offset + 2] = 0;
      }
    }
  }
  return { pixels, size };
}

describe('MfaEnrolment', () => {
  let server: AuthServerStandIn;

  async function render() {
    server = new AuthServerStandIn();
    TestBed.configureTestingModule({
      providers: [provideRouter([{ path: '**', children: [] }]), ...provideSessionAgainst(server)],
    });
    const session = TestBed.inject(SessionService);
    await session.signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(MfaEnrolment);
    const page = await renderUntil(fixture, (shown) => shown.querySelector('app-qr-code svg') !== null);
    return { fixture, page, session };
  }

  async function submitCode(
    fixture: Awaited<ReturnType<typeof render>>['fixture'],
    code: string,
    until: (page: HTMLElement) => boolean,
  ) {
    const page = fixture.nativeElement as HTMLElement;
    const input = page.querySelector<HTMLInputElement>('#code')!;
    input.value = code;
    input.dispatchEvent(new Event('input'));
    page.querySelector<HTMLFormElement>('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, until);
  }

  const alertShown = (page: HTMLElement) => page.querySelector('[role="alert"]') !== null;
  const codesShown = (page: HTMLElement) => page.querySelector('ul[aria-label="Recovery codes"]') !== null;

  it('draws a QR code that a decoder reads back as the otpauth:// URI', async () => {
    const { page } = await render();

    const svg = page.querySelector<SVGSVGElement>('app-qr-code svg')!;
    expect(svg.getAttribute('aria-label')).toMatch(/QR code/);
    const { pixels, size } = rasterise(svg);
    const decoded = jsQR(pixels, size, size);

    expect(decoded?.data).toBe(
      'otpauth://totp/Invisible:admin%40demo.test?secret=JBSWY3DPEHPK3PXP&issuer=Invisible',
    );
  });

  it('matches a known QR vector: version 1-M of "HELLO WORLD" has the finder patterns and is 21 modules', () => {
    const matrix = qrMatrix('HELLO WORLD');

    expect(matrix).toHaveLength(21);
    // The top-left finder pattern: a dark 7x7 ring around a light ring around a dark 3x3 centre.
    const finder = matrix.slice(0, 7).map((row) =>
      row
        .slice(0, 7)
        .map((dark) => (dark ? 1 : 0))
        .join(''),
    );
    expect(finder).toEqual(['1111111', '1000001', '1011101', '1011101', '1011101', '1000001', '1111111']);
    // Timing pattern on row 6 alternates between the finders.
    expect(matrix[6].slice(8, 13)).toEqual([true, false, true, false, true]);
  });

  it('offers the secret for typing, grouped in fours', async () => {
    const { page } = await render();

    expect(page.querySelector('[data-testid="totp-secret"]')?.textContent).toBe('JBSW Y3DP EHPK 3PXP');
  });

  it('refuses a code that is not 6 digits without asking the server', async () => {
    const { fixture, page } = await render();

    await submitCode(fixture, '12ab', alertShown);

    expect(page.querySelector('[role="alert"]')?.textContent).toContain('6-digit code');
    expect(server.calls).not.toContain('ConfirmMfaEnrolment');
  });

  it('shows the server’s message for a wrong code', async () => {
    const { fixture, page } = await render();

    await submitCode(fixture, '000000', alertShown);

    expect(page.querySelector('[role="alert"]')?.textContent).toContain(
      'The code is not valid. Use the current code from your authenticator app.',
    );
  });

  it('shows the ten recovery codes once after a good code, then continues to the workspace', async () => {
    const { fixture, page, session } = await render();
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigateByUrl');

    await submitCode(fixture, '123456', codesShown);

    expect(page.querySelector('h1')?.textContent).toBe('Save your recovery codes');
    expect(page.querySelectorAll('ul[aria-label="Recovery codes"] li')).toHaveLength(10);
    expect(session.status()).toBe('signed-in');

    const buttons = Array.from(page.querySelectorAll('button'));
    buttons.find((button) => button.textContent?.includes('I have saved'))!.click();
    await renderUntil(fixture, () => navigate.mock.calls.length > 0);

    expect(String(navigate.mock.calls[0][0])).toBe('/dashboard');
  });

  it('downloads the recovery codes as a text file', async () => {
    const { fixture, page } = await render();
    await submitCode(fixture, '123456', codesShown);
    const blobs: Blob[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
      blobs.push(blob as Blob);
      return 'blob:codes';
    });
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);

    Array.from(page.querySelectorAll('button'))
      .find((button) => button.textContent?.includes('Download'))!
      .click();

    expect(blobs).toHaveLength(1);
    const text = await blobs[0].text();
    expect(text).toContain('rc0-abcd-efgh');
    expect(text).toContain('rc9-abcd-efgh');
  });
});
