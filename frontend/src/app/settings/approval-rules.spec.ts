import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';

import {
  ApprovalRuleSchema,
  ApprovalService,
  type PreviewApprovalRulesRequest,
  type SetApprovalRulesRequest,
} from '../../gen/invisible/exceptions/v1/approvals_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { ApprovalRules } from './approval-rules';

/** An in-test stand-in of our ApprovalService: one saved rule, a preview that echoes the draft's rule names. */
class ApprovalServer {
  previews: PreviewApprovalRulesRequest[] = [];
  saves: SetApprovalRulesRequest[] = [];

  routes = (router: ConnectRouter): void => {
    router.service(ApprovalService, {
      getApprovalRules: () => ({
        tenantCurrency: 'GBP',
        fourEyes: true,
        rules: [
          create(ApprovalRuleSchema, {
            name: 'Over 10,000',
            minAmount: '10000',
            requiredApprovals: 2,
            requiredRole: 'admin',
          }),
        ],
      }),
      previewApprovalRules: (request) => {
        this.previews.push(request);
        return {
          rules: [
            ...request.rules.map((rule, position) => ({
              position,
              ruleName: rule.name,
              count: 3 - position,
              examples: [],
            })),
            { position: -1, ruleName: 'Default: one approval', count: 7, examples: [] },
          ],
        };
      },
      setApprovalRules: (request) => {
        this.saves.push(request);
        return {
          tenantCurrency: 'GBP',
          fourEyes: request.fourEyes,
          rules: request.rules,
          exchangeRates: request.exchangeRates,
        };
      },
    });
  };
}

describe('approval rules editor', () => {
  async function render() {
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    auth.role = 'admin';
    const backend = new ApprovalServer();
    TestBed.configureTestingModule({
      providers: [provideRouter([]), ...provideSessionAgainst(auth, undefined, backend.routes)],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(ApprovalRules);
    const page = await renderUntil(
      fixture,
      (shown) => shown.querySelector('[data-testid="rule-0"]') !== null,
    );
    return { fixture, page, backend };
  }

  function button(page: HTMLElement, text: string): HTMLButtonElement {
    return Array.from(page.querySelectorAll('button')).find(
      (candidate) => candidate.textContent?.trim() === text,
    )!;
  }

  it('previews a draft with a new rule without saving, showing what each rule would catch', async () => {
    const { fixture, page, backend } = await render();

    button(page, 'Add a rule').click();
    await renderUntil(fixture, (shown) => shown.querySelector('[data-testid="rule-1"]') !== null);
    const reasons = page.querySelector<HTMLInputElement>('#rule-reasons-1')!;
    reasons.value = 'duplicate, price_variance';
    reasons.dispatchEvent(new Event('input'));
    button(page, 'Preview on open exceptions').click();
    await renderUntil(fixture, (shown) => shown.querySelector('[data-testid="rules-preview"]') !== null);

    expect(backend.previews[0].rules.map((rule) => [rule.name, rule.reasons])).toEqual([
      ['Over 10,000', []],
      ['Rule 2', ['duplicate', 'price_variance']],
    ]);
    expect(backend.saves).toEqual([]);
    expect(page.querySelector('[data-testid="rules-preview"]')!.textContent).toContain(
      'Default: one approval',
    );
  });

  it('saves the rules keeping the four-eyes setting it read', async () => {
    const { fixture, page, backend } = await render();

    page.querySelector('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, (shown) => shown.querySelector('.notice') !== null);

    expect(
      backend.saves.map((save) => [save.fourEyes, save.rules[0].requiredRole, save.rules[0].minAmount]),
    ).toEqual([[true, 'admin', '10000']]);
  });
});
