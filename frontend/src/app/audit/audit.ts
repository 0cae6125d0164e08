import { ChangeDetectionStrategy, Component, inject, type OnInit, signal } from '@angular/core';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';

import {
  type AuditFilter,
  AuditFilterSchema,
  AuditService,
  type VerifyAuditChainResponse,
} from '../../gen/invisible/audit/v1/audit_pb';
import { toRpcError } from '../rpc/errors';
import { injectClient } from '../rpc/transport';
import { SessionService } from '../session/session';
import { downloadFile } from '../shared/download';
import { formatTimestamp } from '../shared/format';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { PageTokens } from '../shared/page-tokens';
import { Pager } from '../shared/pager';

const pageSize = 50;

interface FilterForm {
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  /** yyyy-MM-dd, inclusive, in the reader's time zone. */
  from: string;
  /** yyyy-MM-dd, inclusive (sent as the next day's start, which the contract treats as exclusive). */
  to: string;
}

const emptyFilter: FilterForm = { actor: '', action: '', entity: '', entityId: '', from: '', to: '' };

/** The tenant's tamper-evident audit log: filter, page, export as CSV, and verify the hash chain. */
@Component({
  selector: 'app-audit',
  imports: [LoadStatus, Pager],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  styles: `
    .filters {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr));
      gap: 0 1rem;
    }
    pre {
      max-width: 32rem;
      margin: 0.25rem 0;
      overflow-x: auto;
      font-size: 0.8125rem;
      white-space: pre-wrap;
      word-break: break-all;
    }
    td.seq {
      font-variant-numeric: tabular-nums;
    }
  `,
  template: `
    <h1>Audit log</h1>
    <section class="card" aria-labelledby="filter-heading">
      <h2 id="filter-heading">Filter</h2>
      <form (submit)="applyFilter($event)">
        <div class="filters">
          <div class="field">
            <label for="audit-actor">Actor</label>
            <input id="audit-actor" [value]="form().actor" (input)="set('actor', $event)" />
          </div>
          <div class="field">
            <label for="audit-action">Action starts with</label>
            <input
              id="audit-action"
              placeholder="e.g. exception."
              [value]="form().action"
              (input)="set('action', $event)"
            />
          </div>
          <div class="field">
            <label for="audit-entity">Entity</label>
            <input
              id="audit-entity"
              placeholder="e.g. invoice"
              [value]="form().entity"
              (input)="set('entity', $event)"
            />
          </div>
          <div class="field">
            <label for="audit-entity-id">Entity id</label>
            <input id="audit-entity-id" [value]="form().entityId" (input)="set('entityId', $event)" />
          </div>
          <div class="field">
            <label for="audit-from">From</label>
            <input id="audit-from" type="date" [value]="form().from" (input)="set('from', $event)" />
          </div>
          <div class="field">
            <label for="audit-to">To (inclusive)</label>
            <input id="audit-to" type="date" [value]="form().to" (input)="set('to', $event)" />
          </div>
        </div>
        <div class="actions">
          <button class="button primary" type="submit">Apply filter</button>
          <button class="button" type="button" (click)="resetFilter()">Clear filter</button>
          <button class="button" type="button" [disabled]="exporting()" (click)="exportCsv()">
            {{ exporting() ? 'Exporting…' : 'Export CSV' }}
          </button>
          @if (canVerify()) {
            <button class="button" type="button" [disabled]="verifying()" (click)="verify()">
              {{ verifying() ? 'Verifying…' : 'Verify the chain' }}
            </button>
          }
        </div>
      </form>
      <div aria-live="polite">
        @if (exportResult(); as message) {
          <p class="notice">{{ message }}</p>
        }
        @if (actionError(); as message) {
          <p class="alert" role="alert">{{ message }}</p>
        }
        @if (verification(); as result) {
          @if (result.ok) {
            <p class="notice">
              The chain is intact: {{ result.entriesChecked }} entries checked, every hash matches.
            </p>
          } @else {
            <p class="alert">
              The chain is broken at entry {{ result.firstBadSeq }} ({{ result.entriesChecked }} checked):
              that entry or one before it was changed after it was written.
            </p>
          }
        }
      </div>
    </section>

    <div [attr.aria-busy]="log.loading()">
      <app-load-status [of]="log" loading="Loading the audit log…" />
      @if (log.value(); as page) {
        @if (page.entries.length === 0) {
          <p>{{ filtered() ? 'No entry matches this filter.' : 'The audit log is empty.' }}</p>
        } @else {
          <div class="table-scroll">
            <table class="data" aria-label="Audit entries, newest first">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Entity</th>
                  <th scope="col">Change</th>
                </tr>
              </thead>
              <tbody>
                @for (entry of page.entries; track entry.seq) {
                  <tr>
                    <td class="seq">{{ entry.seq }}</td>
                    <td>{{ formatTimestamp(entry.occurredAt) }}</td>
                    <td>{{ entry.actor }}</td>
                    <td>{{ entry.action }}</td>
                    <td>{{ entry.entity }}{{ entry.entityId ? ' ' + entry.entityId : '' }}</td>
                    <td>
                      @if (entry.beforeJson || entry.afterJson) {
                        <details>
                          <summary>
                            Before and after<span class="visually-hidden"> of entry {{ entry.seq }}</span>
                          </summary>
                          @if (entry.beforeJson) {
                            <div>Before:</div>
                            <pre>{{ entry.beforeJson }}</pre>
                          }
                          @if (entry.afterJson) {
                            <div>After:</div>
                            <pre>{{ entry.afterJson }}</pre>
                          }
                        </details>
                      } @else {
                        —
                      }
                    </td>
                  </tr>
                }
              </tbody>
            </table>
          </div>
        }
        <app-pager
          label="Audit log pages"
          previousText="Newer entries"
          nextText="Older entries"
          [pageNumber]="pages.pageNumber"
          [hasPrevious]="pages.hasPrevious"
          [hasNext]="page.nextPageToken !== ''"
          (previous)="previous()"
          (next)="next()"
        />
      }
    </div>
  `,
})
export class Audit implements OnInit {
  private readonly audit = injectClient(AuditService);
  private readonly session = inject(SessionService);
  protected readonly formatTimestamp = formatTimestamp;

  protected readonly form = signal<FilterForm>({ ...emptyFilter });
  private applied: FilterForm = { ...emptyFilter };
  protected readonly pages = new PageTokens();
  /** The page of entries on screen, of the filter last applied. */
  protected readonly log = new Loadable(() =>
    this.audit.listAuditEntries({
      filter: toFilter(this.applied),
      pageSize,
      pageToken: this.pages.current,
    }),
  );
  protected readonly exporting = signal(false);
  protected readonly verifying = signal(false);
  protected readonly exportResult = signal<string | undefined>(undefined);
  protected readonly actionError = signal<string | undefined>(undefined);
  protected readonly verification = signal<VerifyAuditChainResponse | undefined>(undefined);
  /** Both roles that can read the log can verify it; the server decides. */
  protected readonly canVerify = () => this.session.hasRole('admin', 'auditor');

  ngOnInit(): void {
    void this.log.load();
  }

  protected set(field: keyof FilterForm, event: Event): void {
    const value = (event.target as HTMLInputElement).value;
    this.form.update((form) => ({ ...form, [field]: value }));
  }

  protected filtered(): boolean {
    return Object.values(this.applied).some((value) => value !== '');
  }

  protected applyFilter(event: Event): void {
    event.preventDefault();
    this.applied = { ...this.form() };
    this.firstPage();
  }

  protected resetFilter(): void {
    this.form.set({ ...emptyFilter });
    this.applied = { ...emptyFilter };
    this.firstPage();
  }

  protected next(): void {
    const token = this.log.value()?.nextPageToken ?? '';
    if (token !== '') {
      this.pages.next(token);
      void this.log.load();
    }
  }

  protected previous(): void {
    this.pages.back();
    void this.log.load();
  }

  protected async exportCsv(): Promise<void> {
    this.exporting.set(true);
    this.actionError.set(undefined);
    this.exportResult.set(undefined);
    try {
      const response = await this.audit.exportAuditLog({ filter: toFilter(this.applied) });
      downloadFile(
        `audit-log-${new Date().toISOString().slice(0, 10)}.csv`,
        response.csv as Uint8Array<ArrayBuffer>,
        'text/csv',
      );
      this.exportResult.set(
        `Exported ${response.rowCount} entr${response.rowCount === 1 ? 'y' : 'ies'} as CSV.`,
      );
    } catch (failure) {
      this.actionError.set(toRpcError(failure).message);
    } finally {
      this.exporting.set(false);
    }
  }

  protected async verify(): Promise<void> {
    this.verifying.set(true);
    this.actionError.set(undefined);
    this.verification.set(undefined);
    try {
      this.verification.set(await this.audit.verifyAuditChain({}));
    } catch (failure) {
      this.actionError.set(toRpcError(failure).message);
    } finally {
      this.verifying.set(false);
    }
  }

  private firstPage(): void {
    this.pages.reset();
    void this.log.load();
  }
}

/** The form as the contract's filter: dates are whole days in the reader's time zone, `to` inclusive. */
export function toFilter(form: FilterForm): AuditFilter {
  const dayStart = (day: string, plusDays = 0) => {
    const date = new Date(`${day}T00:00:00`);
    date.setDate(date.getDate() + plusDays);
    return timestampFromDate(date);
  };
  return create(AuditFilterSchema, {
    actor: form.actor.trim(),
    action: form.action.trim(),
    entity: form.entity.trim(),
    entityId: form.entityId.trim(),
    from: form.from === '' ? undefined : dayStart(form.from),
    to: form.to === '' ? undefined : dayStart(form.to, 1),
  });
}
