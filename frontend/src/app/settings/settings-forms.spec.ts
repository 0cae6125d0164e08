import { type Type } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';

import {
  AdminService,
  ApiKeySchema,
  InvitationSchema,
  UserSchema,
} from '../../gen/invisible/admin/v1/admin_pb';
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
import { Security } from './security';
import { Tolerances } from './tolerances';
import { Users } from './users';

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
  users = [
    create(UserSchema, { id: 'u1', email: 'admin@demo.test', role: 'admin', mfaEnrolled: true }),
    create(UserSchema, { id: 'u2', email: 'last.admin@demo.test', role: 'admin' }),
    create(UserSchema, { id: 'u3', email: 'clerk@demo.test', role: 'clerk' }),
  ];
  /** How many times each list was asked for. */
  lists = { users: 0, keys: 0 };
  /** The IP allowlist as saved, and every list the page sent to be saved. */
  allowlist: string[] = [];
  allowlistSaves: string[][] = [];
  /** Answers every list of API keys with this failure while set. */
  keysFailure: ConnectError | undefined;

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
      getMfaPolicy: () => ({ required: true }),
      getIpAllowlist: () => ({ cidrRanges: this.allowlist }),
      setIpAllowlist: (request) => {
        this.allowlistSaves.push(request.cidrRanges);
        this.allowlist = request.cidrRanges;
        return { cidrRanges: this.allowlist };
      },
      listUsers: () => {
        this.lists.users++;
        return { users: this.users };
      },
      setUserRole: (request) => {
        if (request.userId === 'u2') {
          // What the server answers when the change would leave the tenant without an administrator.
          throw new ConnectError(
            'The organisation needs at least one administrator.',
            Code.FailedPrecondition,
          );
        }
        return this.updateUser(request.userId, { role: request.role });
      },
      disableUser: (request) => this.updateUser(request.userId, { disabled: true }),
      listInvitations: () => ({ invitations: this.invitations }),
      revokeInvitation: (request) => {
        const invitation = this.invitations.find((candidate) => candidate.id === request.invitationId)!;
        invitation.revoked = true;
        return invitation;
      },
      inviteUser: (request) => {
        const invitation = create(InvitationSchema, { id: 'i1', email: request.email, role: request.role });
        this.invitations.push(invitation);
        return { invitation, invitationToken: 'tok/en+1' };
      },
      listApiKeys: () => {
        this.lists.keys++;
        if (this.keysFailure !== undefined) {
          throw this.keysFailure;
        }
        return { apiKeys: this.keys };
      },
      revokeApiKey: (request) => {
        if (request.apiKeyId === 'k-gone') {
          throw new ConnectError('No API key k-gone in this organisation.', Code.NotFound);
        }
        const key = this.keys.find((candidate) => candidate.id === request.apiKeyId)!;
        key.revoked = true;
        return key;
      },
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

  private updateUser(id: string, change: { role?: string; disabled?: boolean }) {
    const index = this.users.findIndex((user) => user.id === id);
    this.users[index] = create(UserSchema, { ...this.users[index], ...change });
    return this.users[index];
  }
}

describe('settings forms', () => {
  let backend: SettingsServer;

  async function render<T>(
    component: Type<T>,
    role: string,
    ready: (page: HTMLElement) => boolean,
    prepare: (server: SettingsServer) => void = () => undefined,
  ) {
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    auth.role = role;
    backend = new SettingsServer();
    prepare(backend);
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

  describe('allowed networks', () => {
    const formShown = (page: HTMLElement) => page.querySelector('#allowlist-ranges') !== null;

    it('saves the ranges typed one per line as the allowlist', async () => {
      const { fixture, page } = await render(Security, 'admin', formShown, (server) => {
        server.allowlist = ['203.0.113.0/24'];
      });
      const ranges = page.querySelector<HTMLTextAreaElement>('#allowlist-ranges')!;
      ranges.value = '203.0.113.0/24\n\n 198.51.100.7 \n';
      ranges.dispatchEvent(new Event('input'));

      button(page, 'Save networks')!.click();
      await renderUntil(fixture, (shown) => shown.textContent!.includes('Only these 2 networks are allowed.'));

      expect(backend.allowlistSaves).toEqual([['203.0.113.0/24', '198.51.100.7']]);
    });
  });

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

    it('revokes a pending invitation', async () => {
      const { fixture, page } = await render(
        Invitations,
        'admin',
        (shown) => shown.querySelector('table[aria-label="Invitations"]') !== null,
        (server) =>
          server.invitations.push(
            create(InvitationSchema, {
              id: 'i7',
              email: 'new.clerk@demo.test',
              role: 'clerk',
              expiresAt: { seconds: BigInt(Math.floor(Date.now() / 1000) + 86_400) },
            }),
          ),
      );
      expect(page.querySelector('tbody td:nth-of-type(3)')?.textContent).toBe('Pending');

      button(page, 'Revoke the invitation of new.clerk@demo.test')!.click();
      await renderUntil(
        fixture,
        (shown) => shown.querySelector('tbody td:nth-of-type(3)')?.textContent === 'Revoked',
      );

      expect(button(page, 'Revoke the invitation of new.clerk@demo.test')).toBeUndefined();
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

    it('revokes a key in place, and says so when the server refuses', async () => {
      const { fixture, page } = await render(
        ApiKeys,
        'admin',
        (shown) => shown.querySelector('table[aria-label="API keys"]') !== null,
        (server) =>
          server.keys.push(
            create(ApiKeySchema, {
              id: 'k1',
              name: 'ERP nightly import',
              role: 'clerk',
              keyPrefix: 'inv_ab',
            }),
            create(ApiKeySchema, { id: 'k-gone', name: 'Old export', role: 'clerk', keyPrefix: 'inv_cd' }),
          ),
      );
      const lists = backend.lists.keys;

      button(page, 'Revoke ERP nightly import')!.click();
      await renderUntil(fixture, (shown) =>
        shown.querySelector('tbody tr td:last-child')!.textContent!.includes('Revoked'),
      );
      expect(backend.lists.keys).toBe(lists);

      button(page, 'Revoke Old export')!.click();
      await renderUntil(fixture, (shown) => shown.querySelector('[role="alert"]') !== null);
      expect(page.querySelector('[role="alert"]')?.textContent).toContain(
        'No API key k-gone in this organisation.',
      );
      expect(button(page, 'Revoke Old export')?.disabled).toBe(false);
    });

    it('shows why the list could not be loaded, and loads it again on request', async () => {
      const { fixture, page } = await render(
        ApiKeys,
        'admin',
        (shown) => button(shown, 'Try again') !== undefined,
        (server) =>
          (server.keysFailure = new ConnectError('The database is not reachable.', Code.Unavailable)),
      );
      expect(page.querySelector('section[aria-labelledby="keys-heading"] [role="alert"]')).not.toBeNull();

      backend.keysFailure = undefined;
      button(page, 'Try again')!.click();
      await renderUntil(fixture, (shown) => shown.textContent!.includes('No API keys yet'));
      expect(backend.lists.keys).toBe(2);
    });
  });

  describe('users', () => {
    const listed = (page: HTMLElement) => page.querySelector('table[aria-label="Users"]') !== null;

    function roleOf(page: HTMLElement, id: string): HTMLSelectElement {
      return page.querySelector<HTMLSelectElement>(`#role-${id}`)!;
    }

    it('changes a role and says what it did; the signed-in user cannot change or disable themselves', async () => {
      const { fixture, page } = await render(Users, 'admin', listed);
      expect(roleOf(page, 'u1')).toBeNull();
      expect(button(page, 'Disable admin@demo.test')).toBeUndefined();

      roleOf(page, 'u3').value = 'approver';
      roleOf(page, 'u3').dispatchEvent(new Event('change'));
      await renderUntil(fixture, (shown) => shown.querySelector('.notice') !== null);

      expect(page.querySelector('.notice')?.textContent).toBe('clerk@demo.test is now Approver.');
      expect(backend.users[2].role).toBe('approver');
    });

    it('disables a user', async () => {
      const { fixture, page } = await render(Users, 'admin', listed);

      button(page, 'Disable clerk@demo.test')!.click();
      await renderUntil(fixture, (shown) => shown.querySelector('.notice') !== null);

      expect(page.querySelector('.notice')?.textContent).toBe('clerk@demo.test is disabled and signed out.');
      expect(page.querySelector('tbody tr:nth-of-type(3) td:last-child')?.textContent?.trim()).toBe(
        'Disabled',
      );
    });

    it('shows the server’s refusal and lists the users again', async () => {
      const { fixture, page } = await render(Users, 'admin', listed);
      const lists = backend.lists.users;

      roleOf(page, 'u2').value = 'clerk';
      roleOf(page, 'u2').dispatchEvent(new Event('change'));
      await renderUntil(fixture, (shown) => shown.querySelector('[role="alert"]') !== null && listed(shown));

      expect(page.querySelector('[role="alert"]')?.textContent).toContain(
        'The organisation needs at least one administrator.',
      );
      expect(backend.lists.users).toBe(lists + 1);
      expect(page.querySelector('.notice')).toBeNull();
    });
  });
});
