import { ChangeDetectionStrategy, Component, computed, inject, type OnInit, signal } from '@angular/core';

import { type MatchingModel, VendorService } from '../../gen/invisible/vendors/v1/vendors_pb';
import { injectClient } from '../rpc/transport';
import { SessionService } from '../session/session';
import { formatTimestamp } from '../shared/format';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';

/** A share as people read it ("97.7 %"), or a dash when there was nothing to divide by. */
export function formatShare(share: number | undefined): string {
  return share === undefined ? '—' : `${(share * 100).toFixed(1)} %`;
}

/**
 * Settings → Matching model: the tenant's active vendor-name model (version, the pairs it was fitted on, the names
 * people confirmed, how it does on the pairs held back from fitting, when it was trained). Administrators can retrain
 * it now; it also retrains by itself after people confirm names.
 */
@Component({
  selector: 'app-matching-model',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  styles: `
    dl {
      display: grid;
      grid-template-columns: max-content auto;
      gap: 0.25rem 1rem;
      margin: 0 0 1rem;
    }
    dt {
      font-weight: 600;
    }
    dd {
      margin: 0;
    }
  `,
  template: `
    <section class="card" aria-labelledby="matching-model-heading" [attr.aria-busy]="model.loading()">
      <h2 id="matching-model-heading">Matching model</h2>
      <p>
        Scores how likely a printed vendor name is a vendor of your master. It learns from your vendor master
        and from every name a person confirms for a vendor; one labelled pair in five is held back from
        training to measure it.
      </p>
      <app-load-status [of]="model" loading="Loading the matching model…" />
      @if (model.value(); as card) {
        @if (card.version === 0) {
          <p>No model trained yet: the built-in rules decide until the first matching run trains one.</p>
        } @else {
          <dl aria-label="Active matching model">
            <dt>Version</dt>
            <dd>{{ card.version }}</dd>
            <dt>Training pairs</dt>
            <dd>{{ card.trainingPairs }} (of them confirmed by people: {{ card.reviewerPairs }})</dd>
            <dt>Held-back precision</dt>
            <dd>{{ formatShare(card.heldBackPrecision) }}</dd>
            <dt>Held-back recall</dt>
            <dd>{{ formatShare(card.heldBackRecall) }} on {{ card.heldBackPairs }} held-back pairs</dd>
            <dt>Trained</dt>
            <dd>{{ formatTimestamp(card.trainedAt) }}</dd>
          </dl>
        }
      }
      @if (isAdmin()) {
        <button class="button" type="button" [disabled]="retraining.busy()" (click)="retrain()">
          Retrain now
        </button>
        @if (notice(); as message) {
          <p role="status" class="notice">{{ message }}</p>
        }
        @if (retraining.error(); as message) {
          <p class="alert" role="alert">{{ message }}</p>
        }
      }
    </section>
  `,
})
export class MatchingModelCard implements OnInit {
  private readonly vendors = injectClient(VendorService);
  private readonly session = inject(SessionService);

  protected readonly isAdmin = computed(() => this.session.role() === 'admin');
  protected readonly model = new Loadable<MatchingModel>(() => this.vendors.getMatchingModel({}));
  protected readonly retraining = new RpcAction();
  protected readonly notice = signal('');
  protected readonly formatShare = formatShare;
  protected readonly formatTimestamp = formatTimestamp;

  ngOnInit(): void {
    void this.model.load();
  }

  protected async retrain(): Promise<void> {
    this.notice.set('');
    await this.retraining.run(async () => {
      const { model, trainedNow } = await this.vendors.retrainMatchingModel({});
      if (model) {
        this.model.set(model);
      }
      this.notice.set(
        trainedNow
          ? `Trained version ${model?.version ?? ''}.`
          : 'Nothing changed since this version was trained; it stays active.',
      );
    });
  }
}
