import { ChangeDetectionStrategy, Component, type OnInit, inject, signal } from '@angular/core';
import type { MessageInitShape } from '@bufbuild/protobuf';

import {
  ApprovalService,
  type ApprovalRule,
  type ApprovalRuleSchema,
  type ExchangeRate,
  type RuleCatch,
} from '../../gen/invisible/exceptions/v1/approvals_pb';
import { injectClient } from '../rpc/transport';
import { CurrentUser } from '../shared/current-user';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';

/** A rule as the form edits it: lists as comma-separated text, amounts as typed. */
export interface RuleDraft {
  name: string;
  minAmount: string;
  maxAmount: string;
  currency: string;
  vendorCodes: string;
  reasons: string;
  requiredApprovals: number;
  approverRoles: string[];
  requiredRole: string;
  namedApproverIds: string[];
}

export interface RateDraft {
  currency: string;
  validFrom: string;
  rate: string;
}

export function toDraft(rule: ApprovalRule): RuleDraft {
  return {
    name: rule.name,
    minAmount: rule.minAmount,
    maxAmount: rule.maxAmount,
    currency: rule.currency,
    vendorCodes: rule.vendorCodes.join(', '),
    reasons: rule.reasons.join(', '),
    requiredApprovals: rule.requiredApprovals,
    approverRoles: [...rule.approverRoles],
    requiredRole: rule.requiredRole,
    namedApproverIds: [...rule.namedApproverIds],
  };
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

export function fromDraft(draft: RuleDraft): MessageInitShape<typeof ApprovalRuleSchema> {
  return {
    name: draft.name.trim(),
    minAmount: draft.minAmount.trim(),
    maxAmount: draft.maxAmount.trim(),
    currency: draft.currency.trim().toUpperCase(),
    vendorCodes: list(draft.vendorCodes),
    reasons: list(draft.reasons),
    requiredApprovals: draft.requiredApprovals,
    approverRoles: draft.approverRoles,
    requiredRole: draft.requiredRole,
    namedApproverIds: draft.namedApproverIds,
  };
}

const blankRule = (): RuleDraft => ({
  name: '',
  minAmount: '',
  maxAmount: '',
  currency: '',
  vendorCodes: '',
  reasons: '',
  requiredApprovals: 1,
  approverRoles: [],
  requiredRole: '',
  namedApproverIds: [],
});

/**
 * The approval rules (Settings → Approvals): in order, the first that catches an exception decides how many approvals
 * it needs and from whom; the preview shows which open exceptions each rule of the draft would catch before saving.
 */
@Component({
  selector: 'app-approval-rules',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  templateUrl: './approval-rules.html',
})
export class ApprovalRules implements OnInit {
  private readonly approvals = injectClient(ApprovalService);
  protected readonly user = inject(CurrentUser);

  protected readonly policy = new Loadable(async () => {
    const policy = await this.approvals.getApprovalRules({});
    this.rules.set(policy.rules.map(toDraft));
    this.rates.set(policy.exchangeRates.map((rate: ExchangeRate) => ({ ...rate })));
    this.fourEyes = policy.fourEyes;
    return policy;
  });
  protected readonly rules = signal<RuleDraft[]>([]);
  protected readonly rates = signal<RateDraft[]>([]);
  protected readonly preview = signal<readonly RuleCatch[] | undefined>(undefined);
  protected readonly saving = new RpcAction();
  protected readonly previewing = new RpcAction();
  protected readonly notice = signal('');
  private fourEyes = false;

  ngOnInit(): void {
    void this.user.load();
    void this.policy.load();
  }

  protected update(index: number, change: Partial<RuleDraft>): void {
    this.rules.update((rules) => rules.map((rule, at) => (at === index ? { ...rule, ...change } : rule)));
    this.preview.set(undefined);
  }

  protected toggleRole(index: number, role: string, on: boolean): void {
    const roles = this.rules()[index].approverRoles.filter((existing) => existing !== role);
    this.update(index, { approverRoles: on ? [...roles, role] : roles });
  }

  protected add(): void {
    this.rules.update((rules) => [...rules, { ...blankRule(), name: `Rule ${rules.length + 1}` }]);
    this.preview.set(undefined);
  }

  protected remove(index: number): void {
    this.rules.update((rules) => rules.filter((_, at) => at !== index));
    this.preview.set(undefined);
  }

  protected moveUp(index: number): void {
    if (index === 0) return;
    this.rules.update((rules) => {
      const next = [...rules];
      [next[index - 1], next[index]] = [next[index], next[index - 1]];
      return next;
    });
    this.preview.set(undefined);
  }

  protected updateRate(index: number, change: Partial<RateDraft>): void {
    this.rates.update((rates) => rates.map((rate, at) => (at === index ? { ...rate, ...change } : rate)));
    this.preview.set(undefined);
  }

  protected addRate(): void {
    this.rates.update((rates) => [
      ...rates,
      { currency: '', validFrom: new Date().toISOString().slice(0, 10), rate: '' },
    ]);
  }

  protected removeRate(index: number): void {
    this.rates.update((rates) => rates.filter((_, at) => at !== index));
  }

  protected text(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected checked(event: Event): boolean {
    return (event.target as HTMLInputElement).checked;
  }

  private request() {
    return {
      rules: this.rules().map(fromDraft),
      fourEyes: this.fourEyes,
      exchangeRates: this.rates().map((rate) => ({
        currency: rate.currency.trim().toUpperCase(),
        validFrom: rate.validFrom.trim(),
        rate: rate.rate.trim(),
      })),
    };
  }

  protected async runPreview(): Promise<void> {
    await this.previewing.run(async () => {
      const response = await this.approvals.previewApprovalRules(this.request());
      this.preview.set(response.rules);
    });
  }

  protected async save(event: Event): Promise<void> {
    event.preventDefault();
    this.notice.set('');
    await this.saving.run(async () => {
      const saved = await this.approvals.setApprovalRules(this.request());
      this.rules.set(saved.rules.map(toDraft));
      this.notice.set(
        `Approval rules saved (${saved.rules.length}). Open exceptions follow them from their next approval; decided ones stay decided.`,
      );
    });
  }
}
