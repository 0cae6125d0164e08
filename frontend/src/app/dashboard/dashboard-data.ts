import { DestroyRef, inject, Injectable, signal } from '@angular/core';
import { auditTime, startWith } from 'rxjs';

import { MatchingService, type Dashboard } from '../../gen/invisible/matching/v1/matching_pb';
import { LiveEvents, topics } from '../live/live-events';
import { injectClient } from '../rpc/transport';
import { errorMessage } from '../shared/error-banner';

/** Events after which the counters may have changed. */
export const dashboardTopics = [
  topics.dashboardChanged,
  topics.exceptionsChanged,
  topics.importsImported,
  topics.fileImported,
  topics.reconciled,
];

/** Bursts of events (a reconcile run, a bulk action) cause one reload, not one per event. */
export const reloadQuietMs = 300;

/**
 * The dashboard's counters (MatchingService.GetDashboard), reloaded whenever a live event says they changed.
 * Provided by the dashboard page: it lives as long as the page.
 */
@Injectable()
export class DashboardData {
  private readonly matching = injectClient(MatchingService);
  private readonly state = signal<{ dashboard?: Dashboard; error?: string; loading: boolean }>({
    loading: true,
  });
  private generation = 0;

  readonly dashboard = () => this.state().dashboard;
  readonly error = () => this.state().error;
  readonly loading = () => this.state().loading;

  constructor() {
    const subscription = inject(LiveEvents)
      .on(...dashboardTopics)
      .pipe(auditTime(reloadQuietMs), startWith(undefined))
      .subscribe(() => void this.reload());
    inject(DestroyRef).onDestroy(() => subscription.unsubscribe());
  }

  async reload(): Promise<void> {
    const generation = ++this.generation;
    this.state.update((state) => ({ ...state, loading: true }));
    try {
      const dashboard = await this.matching.getDashboard({});
      // An older answer arriving after a newer one must not overwrite it.
      if (generation === this.generation) {
        this.state.set({ dashboard, loading: false });
      }
    } catch (failure) {
      if (generation === this.generation) {
        this.state.update((state) => ({ ...state, error: errorMessage(failure), loading: false }));
      }
    }
  }
}
