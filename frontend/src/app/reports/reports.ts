import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';

import { MatchingService, type ReconcileResponse } from '../../gen/invisible/matching/v1/matching_pb';
import { injectClient } from '../rpc/transport';
import { CurrentUser } from '../shared/current-user';
import { downloadFile } from '../shared/download';
import { ErrorBanner, errorMessage } from '../shared/error-banner';
import { invoiceStatusLabels } from '../shared/status';

/** Reconcile on demand and export the results (results.csv, FORMATS.md section 3). */
@Component({
  selector: 'app-reports',
  imports: [ErrorBanner],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../shared/workspace.css'],
  template: `
    <h1>Reports</h1>
    @if (error(); as message) {
      <app-error-banner [message]="message" />
    }
    <section class="card" aria-labelledby="reconcile-heading">
      <h2 id="reconcile-heading">Reconcile</h2>
      <p class="muted">
        Matches every imported invoice against purchase orders and receipts under the current tolerances. Each
        run adds a decision per invoice; earlier decisions are kept.
      </p>
      @if (user.session() && !user.canImport()) {
        <p class="note">Your role cannot start a reconcile run.</p>
      } @else {
        <button type="button" class="primary" (click)="reconcile()" [disabled]="reconciling()">
          {{ reconciling() ? 'Reconciling…' : 'Reconcile now' }}
        </button>
      }
      @if (run(); as result) {
        <div role="status" data-testid="reconcile-result">
          <p>
            {{ result.invoiceCount }} invoice(s) reconciled under tolerance version
            {{ result.toleranceVersion }}.
          </p>
          <ul>
            @for (count of result.invoicesByStatus; track count.status) {
              <li>{{ statusLabel(count.status) }}: {{ count.invoices }}</li>
            }
          </ul>
        </div>
      }
    </section>
    <section class="card" aria-labelledby="export-heading">
      <h2 id="export-heading">Export results</h2>
      <p class="muted">Downloads results.csv: one row per invoice with its current status and explanation.</p>
      <button type="button" (click)="export()" [disabled]="exporting()">
        {{ exporting() ? 'Preparing…' : 'Download results CSV' }}
      </button>
      @if (exported() !== undefined) {
        <p role="status">{{ exported() }} row(s) exported.</p>
      }
    </section>
  `,
})
export class Reports {
  private readonly matching = injectClient(MatchingService);
  protected readonly user = inject(CurrentUser);

  protected readonly reconciling = signal(false);
  protected readonly exporting = signal(false);
  protected readonly run = signal<ReconcileResponse | undefined>(undefined);
  protected readonly exported = signal<number | undefined>(undefined);
  protected readonly error = signal<string | undefined>(undefined);

  constructor() {
    void this.user.load();
  }

  protected statusLabel(status: keyof typeof invoiceStatusLabels): string {
    return invoiceStatusLabels[status]?.label ?? 'Unknown';
  }

  protected async reconcile(): Promise<void> {
    this.reconciling.set(true);
    this.error.set(undefined);
    try {
      this.run.set(await this.matching.reconcile({}));
    } catch (failure) {
      this.error.set(errorMessage(failure));
    } finally {
      this.reconciling.set(false);
    }
  }

  protected async export(): Promise<void> {
    this.exporting.set(true);
    this.error.set(undefined);
    try {
      const response = await this.matching.exportResults({});
      downloadFile('results.csv', response.csv as Uint8Array<ArrayBuffer>, 'text/csv');
      this.exported.set(response.rowCount);
    } catch (failure) {
      this.error.set(errorMessage(failure));
    } finally {
      this.exporting.set(false);
    }
  }
}
