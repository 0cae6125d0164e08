import { type Type } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';

import { AdminService, ApiKeySchema, InvitationSchema } from '../../gen/invisible/admin/v1/admin_pb';
import {
  MatchingService,
  type PreviewToleranceRequest,
  type SetToleranceRequest,
  ToleranceSchema,
  TolerancesSchema,
} from '../../gen/invisible/matching/v1/matching_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { ApiKeys } from './api-keys';
import { Invitations } from './invitations';
import { Tolerances } from './tolerances';

const tenantDefault = create(ToleranceSchema, {
  vendorCode: '',
  version: 3,
  settings: {
    priceTolerancePercent: '5',
    priceToleranceAbsolute: '0',
    quantityTolerancePercent: '0',
    totalTolerance: '1.00',
  },
  changedBy: 'admin@demo.test',
});

/** In-test stand-ins of our MatchingService (tolerances) and AdminService (invitations, API keys). */
class SettingsServer {
  previews: PreviewToleranceRequest[] = [];
  saves: SetToleranceRequest[] = [];
  invitations = [] as ReturnType<typeof create<typeof InvitationSchema>>[];
  keys = [] as ReturnType<typeof create<typeof ApiKeySchema>>[];

  routes = (router: ConnectRouter): void => {
    router.service(MatchingService, {
      getTolerances: () => create(TolerancesSchema, { tenantDefault }),
      previewTolerance: (request) => {
        this.previews.push(request);
        return {
          openExceptions: 12,
          wouldClear: 4,
          wouldNewlyFail: 1,
          amountWouldPass: [{ currency: 'EUR', amount: '1234.5000' }],
        };
      },
      setTolerance: (request) => {
        this.saves.push(request);
        if (request.vendorCode === 'NOPE') {
          throw new ConnectError('No vendor NOPE in this organisation.', Code.NotFound);
        }
        return create(TolerancesSchema, {
          tenantDefault: { ...tenantDefault, version: 4, settings: request.settings },
        });
      },
    });
    router.service(AdminService, {
      listInvitations: () => ({ invitations: this.invitations }),
      inviteUser: (request) => {
        const invitation = create(InvitationSchema, { id: 'i1', email: request.email, role: request.role });
        this.invitations.push(invitation);
        return { invitation, invitationToken: 'tok/en+1' };
      },
      listApiKeys: () => ({ apiKeys: this.keys }),
      createApiKey: (request) => {
        const apiKey = create(ApiKeySchema, {
          id: 'k1',
          name: request.name,
          role: request.role,
          keyPrefix: 'inv_ab',
        });
        this.keys.push(apiKey);
        return { apiKey, key: 'inv_abcdef0123456789' };
      },
    });
  };
}

describe('settings forms', () => {
  let backend: SettingsServer;

  async function render<T>(component: Type<T>, role: string, ready: (page: HTMLElement) => boolean) {
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    auth.role = role;
    backend = new SettingsServer();
    TestBed.configureTestingModule({
      providers: [provideRouter([]), ...provideSessionAgainst(auth, undefined, backend.routes)],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(component);
    const page = await renderUntil(fixture, ready);
    return { fixture, page };
  }

  function type(page: HTMLElement, selector: string, value: string): void {
    const input = page.querySelector<HTMLInputElement>(selector)!;
    input.value = value;
    input.dispatchEvent(new Event('input'));
  }

  function button(page: HTMLElement, text: string): HTMLButtonElement | undefined {
    return Array.from(page.querySelectorAll('button')).find(
      (candidate) => candidate.textContent?.trim() === text,
    );
  }

  const tableShown = (page: HTMLElement) => page.querySelector('table[aria-label="Tolerances"]') !== null;

  describe('tolerances', () => {
    it('lists the default and fills the form with it', async () => {
      const { page } = await render(Tolerances, 'admin', tableShown);

      expect(page.querySelector('tbody th')?.textContent).toContain('Default (every vendor)');
      expect(page.querySelector<HTMLInputElement>('#tolerance-priceTolerancePercent')?.value).toBe('5');
    });

    it('refuses values that are not non-negative decimals, naming the fields, without calling the server', async () => {
      const { fixture, page } = await render(Tolerances, 'admin', tableShown);
      type(page, '#tolerance-priceTolerancePercent', '-1');
      type(page, '#tolerance-totalTolerance', 'abc');

      page.querySelector('form')!.dispatchEvent(new Event('submit'));
      await renderUntil(fixture, (shown) => shown.querySelector('[role="alert"]') !== null);

      const alert = page.querySelector('[role="alert"]')!.textContent!;
      expect(alert).toContain('Price tolerance (%)');
      expect(alert).toContain('Invoice total tolerance');
      expect(page.querySelector('#tolerance-priceTolerancePercent')?.getAttribute('aria-invalid')).toBe(
        'true',
      );
      expect(backend.previews).toEqual([]);
    });

    it('previews the effect of a change and shows the figures and amounts with their currency', async () => {
      const { fixture, page } = await render(Tolerances, 'admin', tableShown);
      type(page, '#tolerance-priceTolerancePercent', '7.5');
      type(page, '#vendor-code', ' V001 ');

      page.querySelector('form')!.dispatchEvent(new Event('submit'));
      await renderUntil(fixture, (shown) => shown.querySelector('dl.preview') !== null);

      expect(backend.previews).toHaveLength(1);
      expect(backend.previews[0].vendorCode).toBe('V001');
      expect(backend.previews[0].settings?.priceTolerancePercent).toBe('7.5');
      const figures = Array.from(page.querySelectorAll('dl.preview dd')).map((dd) => dd.textContent?.trim());
      expect(figures.slice(0, 3)).toEqual(['12', '4', '1']);
      expect(figures[3]).toMatch(/€\s?1,234\.50|1,234\.50\s?€/);
      expect(backend.saves).toEqual([]);
    });

    it('saves a new version as an administrator and shows the server’s error for an unknown vendor', async () => {
      const { fixture, page } = await render(Tolerances, 'admin', tableShown);
      type(page, '#tolerance-priceTolerancePercent', '6');
      button(page, 'Save')!.click();
      await renderUntil(fixture, (shown) => shown.querySelector('.notice') !== null);

      expect(backend.saves[0].settings?.priceTolerancePercent).toBe('6');
      expect(page.querySelector('tbody tr td:nth-of-type(5)')?.textContent).toBe('4');

      type(page, '#vendor-code', 'NOPE');
      button(page, 'Save')!.click();
      await renderUntil(fixture, (shown) => shown.querySelector('[role="alert"]') !== null);
      expect(page.querySelector('[role="alert"]')?.textContent).toContain(
        'No vendor NOPE in this organisation.',
      );
    });

    it('offers no Save to a role that cannot change tolerances', async () => {
      const { page } = await render(Tolerances, 'clerk', tableShown);

      expect(button(page, 'Save')).toBeUndefined();
      expect(button(page, 'Preview the effect')).toBeDefined();
      expect(page.textContent).toContain('Only administrators can save tolerances');
    });
  });

  describe('invitations', () => {
    it('shows the one-time link with the token in the fragment, once', async () => {
      const { fixture, page } = await render(Invitations, 'admin', (shown) =>
        shown.textContent!.includes('No invitations yet'),
      );
      type(page, '#invite-email', 'new.clerk@demo.test');

      page.querySelector('form')!.dispatchEvent(new Event('submit'));
      await renderUntil(fixture, (shown) => shown.querySelector('[data-testid="invitation-link"]') !== null);

      expect(page.querySelector('[data-testid="invitation-link"]')?.textContent).toBe(
        `${location.origin}/accept-invitation#token=tok%2Fen%2B1`,
      );
      expect(page.querySelector('table[aria-label="Invitations"]')?.textContent).toContain(
        'new.clerk@demo.test',
      );
      expect(page.querySelector('table[aria-label="Invitations"]')?.textContent).toContain('Clerk');
    });

    it('asks for an e-mail address before inviting', async () => {
      const { fixture, page } = await render(Invitations, 'admin', (shown) =>
        shown.textContent!.includes('No invitations yet'),
      );

      page.querySelector('form')!.dispatchEvent(new Event('submit'));
      await renderUntil(fixture, (shown) => shown.querySelector('[role="alert"]') !== null);

      expect(page.querySelector('[role="alert"]')?.textContent).toContain('e-mail address');
      expect(backend.invitations).toEqual([]);
    });
  });

  describe('API keys', () => {
    it('shows a new key once, with the role chosen, and lists it by its prefix only', async () => {
      const { fixture, page } = await render(ApiKeys, 'admin', (shown) =>
        shown.textContent!.includes('No API keys yet'),
      );
      type(page, '#key-name', 'ERP nightly import');
      const role = page.querySelector<HTMLSelectElement>('#key-role')!;
      role.value = 'auditor';
      role.dispatchEvent(new Event('change'));

      page.querySelector('form')!.dispatchEvent(new Event('submit'));
      await renderUntil(fixture, (shown) => shown.querySelector('[data-testid="api-key"]') !== null);

      expect(page.querySelector('[data-testid="api-key"]')?.textContent).toBe('inv_abcdef0123456789');
      expect(backend.keys[0].role).toBe('auditor');
      const table = page.querySelector('table[aria-label="API keys"]')!.textContent!;
      expect(table).toContain('inv_ab…');
      expect(table).not.toContain('inv_abcdef0123456789');
    });
  });
});
