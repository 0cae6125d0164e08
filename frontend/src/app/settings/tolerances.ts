import { ChangeDetectionStrategy, Component, computed, inject, type OnInit, signal } from '@angular/core';

import {
  MatchingService,
  type PreviewToleranceResponse,
  type Tolerance,
  type Tolerances as TolerancesMessage,
  type ToleranceSettings,
} from '../../gen/invisible/matching/v1/matching_pb';
import { signInMessage } from '../auth/auth-errors';
import { injectClient } from '../rpc/transport';
import { SessionService } from '../session/session';
import { formatMoney, formatTimestamp } from '../shared/format';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';

type SettingName = keyof Omit<ToleranceSettings, '$typeName' | '$unknown'>;

const fields: readonly { readonly name: SettingName; readonly label: string; readonly hint: string }[] = [
  {
    name: 'priceTolerancePercent',
    label: 'Price tolerance (%)',
    hint: 'Unit price above the PO price still accepted, in percent.',
  },
  {
    name: 'priceToleranceAbsolute',
    label: 'Price tolerance per unit',
    hint: 'In the invoice currency; 0 for none.',
  },
  {
    name: 'quantityTolerancePercent',
    label: 'Quantity tolerance (%)',
    hint: 'Quantity above what was ordered or received.',
  },
  {
    name: 'totalTolerance',
    label: 'Invoice total tolerance',
    hint: 'Difference of the totals, in the invoice currency.',
  },
];

/** Non-negative decimal strings, as the contract carries them (never parsed into floats here). */
const decimal = /^\d{1,12}(\.\d{1,6})?$/;

/**
 * Matching tolerances: the organisation's default and per-vendor overrides. "Preview" asks the server what the change
 * would do to open exceptions (it changes nothing); only administrators can save.
 */
@Component({
  selector: 'app-tolerances',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  styles: `
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
      gap: 0 1rem;
    }
    dl.preview {
      display: grid;
      grid-template-columns: max-content auto;
      gap: 0.25rem 1rem;
      margin: 0;
    }
    dl.preview dt {
      font-weight: 600;
    }
    dl.preview dd {
      margin: 0;
    }
  `,
  template: `
    <section class="card" aria-labelledby="current-heading" [attr.aria-busy]="tolerances.loading()">
      <h2 id="current-heading">Current tolerances</h2>
      <app-load-status [of]="tolerances" loading="Loading tolerances…" />
      @if (tolerances.value()) {
        <div class="table-scroll">
          <table class="data" aria-label="Tolerances">
            <thead>
              <tr>
                <th scope="col">Applies to</th>
                @for (field of fields; track field.name) {
                  <th scope="col">{{ field.label }}</th>
                }
                <th scope="col">Version</th>
                <th scope="col">Changed</th>
                <th scope="col"><span class="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              @for (tolerance of rows(); track tolerance.vendorCode) {
                <tr>
                  <th scope="row">
                    {{
                      tolerance.vendorCode === ''
                        ? 'Default (every vendor)'
                        : 'Vendor ' + tolerance.vendorCode
                    }}
                  </th>
                  @for (field of fields; track field.name) {
                    <td>{{ tolerance.settings?.[field.name] ?? '—' }}</td>
                  }
                  <td>{{ tolerance.version }}</td>
                  <td>
                    {{ formatTimestamp(tolerance.changedAt)
                    }}{{ tolerance.changedBy ? ' by ' + tolerance.changedBy : '' }}
                  </td>
                  <td>
                    <button class="button" type="button" (click)="edit(tolerance)">
                      Edit<span class="visually-hidden"> {{ tolerance.vendorCode || 'the default' }}</span>
                    </button>
                    @if (tolerance.vendorCode !== '' && isAdmin()) {
                      <button
                        class="button danger"
                        type="button"
                        [disabled]="busy()"
                        (click)="removeOverride(tolerance.vendorCode)"
                      >
                        Remove<span class="visually-hidden"> the override of {{ tolerance.vendorCode }}</span>
                      </button>
                    }
                  </td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      }
    </section>

    <section class="card" aria-labelledby="change-heading">
      <h2 id="change-heading">Change a tolerance</h2>
      @if (!isAdmin()) {
        <p class="muted">Only administrators can save tolerances; you can preview what a change would do.</p>
      }
      <form (submit)="preview($event)" novalidate>
        <div class="field">
          <label for="vendor-code">Vendor code</label>
          <span class="hint" id="vendor-code-hint">Leave empty for the organisation's default.</span>
          <input
            id="vendor-code"
            aria-describedby="vendor-code-hint"
            [value]="vendorCode()"
            (input)="vendorCode.set(value($event))"
          />
        </div>
        <div class="grid">
          @for (field of fields; track field.name) {
            <div class="field">
              <label [for]="'tolerance-' + field.name">{{ field.label }}</label>
              <span class="hint" [id]="'hint-' + field.name">{{ field.hint }}</span>
              <input
                [id]="'tolerance-' + field.name"
                inputmode="decimal"
                [attr.aria-describedby]="'hint-' + field.name"
                [attr.aria-invalid]="invalid().includes(field.name)"
                [value]="settings()[field.name]"
                (input)="set(field.name, value($event))"
              />
            </div>
          }
        </div>
        @if (saving.error(); as message) {
          <p class="alert" role="alert">{{ message }}</p>
        }
        <div class="actions">
          <button class="button" type="submit" [disabled]="busy()">Preview the effect</button>
          @if (isAdmin()) {
            <button class="button primary" type="button" [disabled]="busy()" (click)="save()">Save</button>
          }
        </div>
      </form>
      <div aria-live="polite">
        @if (previewResult(); as result) {
          <h3>What this change would do</h3>
          <dl class="preview">
            <dt>Open exceptions now</dt>
            <dd>{{ result.openExceptions }}</dd>
            <dt>Would clear</dt>
            <dd>{{ result.wouldClear }}</dd>
            <dt>Would newly fail</dt>
            <dd>{{ result.wouldNewlyFail }}</dd>
            <dt>Amount that would pass</dt>
            <dd>
              @for (amount of result.amountWouldPass; track amount.currency) {
                <div>{{ formatMoney(amount.amount, amount.currency) }}</div>
              } @empty {
                none
              }
            </dd>
          </dl>
          <p class="muted">A preview changes nothing.</p>
        }
        @if (notice(); as message) {
          <p class="notice" role="status">{{ message }}</p>
        }
      </div>
    </section>
  `,
})
export class Tolerances implements OnInit {
  private readonly matching = injectClient(MatchingService);
  private readonly session = inject(SessionService);
  protected readonly fields = fields;
  protected readonly formatTimestamp = formatTimestamp;
  protected readonly formatMoney = formatMoney;

  protected readonly tolerances = new Loadable<TolerancesMessage>(() => this.matching.getTolerances({}));
  protected readonly vendorCode = signal('');
  protected readonly settings = signal<Record<SettingName, string>>({
    priceTolerancePercent: '',
    priceToleranceAbsolute: '',
    quantityTolerancePercent: '',
    totalTolerance: '',
  });
  /** Preview, save and remove: one at a time, their failures shown under the form. */
  protected readonly saving = new RpcAction(signInMessage);
  protected readonly busy = this.saving.busy;
  protected readonly invalid = signal<SettingName[]>([]);
  protected readonly previewResult = signal<PreviewToleranceResponse | undefined>(undefined);
  protected readonly notice = signal<string | undefined>(undefined);
  protected readonly isAdmin = computed(() => this.session.role() === 'admin');

  protected readonly rows = computed<Tolerance[]>(() => {
    const tolerances = this.tolerances.value();
    if (tolerances === undefined) {
      return [];
    }
    const { tenantDefault, vendorOverrides } = tolerances;
    return tenantDefault === undefined ? vendorOverrides : [tenantDefault, ...vendorOverrides];
  });

  ngOnInit(): void {
    void this.load();
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected set(name: SettingName, value: string): void {
    this.settings.update((settings) => ({ ...settings, [name]: value }));
    this.previewResult.set(undefined);
  }

  protected edit(tolerance: Tolerance): void {
    this.vendorCode.set(tolerance.vendorCode);
    const settings = tolerance.settings;
    this.settings.set({
      priceTolerancePercent: settings?.priceTolerancePercent ?? '',
      priceToleranceAbsolute: settings?.priceToleranceAbsolute ?? '',
      quantityTolerancePercent: settings?.quantityTolerancePercent ?? '',
      totalTolerance: settings?.totalTolerance ?? '',
    });
    this.previewResult.set(undefined);
    this.notice.set(undefined);
  }

  /** The first time the default is there, the form starts from it. */
  private async load(): Promise<void> {
    await this.tolerances.load();
    const tenantDefault = this.tolerances.value()?.tenantDefault;
    if (tenantDefault !== undefined && this.settings().priceTolerancePercent === '') {
      this.edit(tenantDefault);
    }
  }

  protected async preview(event: Event): Promise<void> {
    event.preventDefault();
    const settings = this.validSettings();
    if (settings === undefined) {
      return;
    }
    await this.run(async () => {
      this.previewResult.set(
        await this.matching.previewTolerance({ vendorCode: this.vendorCode().trim(), settings }),
      );
    });
  }

  protected async save(): Promise<void> {
    const settings = this.validSettings();
    if (settings === undefined) {
      return;
    }
    await this.run(async () => {
      const tolerances = await this.matching.setTolerance({ vendorCode: this.vendorCode().trim(), settings });
      this.tolerances.set(tolerances);
      this.previewResult.set(undefined);
      this.notice.set('Saved as a new version; open exceptions are being re-evaluated under it.');
    });
  }

  protected async removeOverride(vendorCode: string): Promise<void> {
    await this.run(async () => {
      this.tolerances.set(await this.matching.setTolerance({ vendorCode, removeOverride: true }));
      this.notice.set(`Vendor ${vendorCode} now uses the default tolerances.`);
    });
  }

  private validSettings(): Record<SettingName, string> | undefined {
    const settings = Object.fromEntries(
      Object.entries(this.settings()).map(([name, value]) => [name, value.trim()]),
    ) as Record<SettingName, string>;
    const invalid = fields.filter((field) => !decimal.test(settings[field.name])).map((field) => field.name);
    this.invalid.set(invalid);
    if (invalid.length > 0) {
      this.saving.fail(
        `Enter a number of 0 or more (e.g. 5 or 2.5) for: ${fields
          .filter((field) => invalid.includes(field.name))
          .map((field) => field.label)
          .join(', ')}.`,
      );
      return undefined;
    }
    return settings;
  }

  private async run(action: () => Promise<void>): Promise<void> {
    this.notice.set(undefined);
    await this.saving.run(action);
  }
}
