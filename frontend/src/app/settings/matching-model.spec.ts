import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter } from '@connectrpc/connect';

import { MatchingModelSchema, VendorService } from '../../gen/invisible/vendors/v1/vendors_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { MatchingModelCard } from './matching-model';

/** In-test stand-in of our VendorService's model calls: version 3 active; retraining makes version 4 once. */
class ModelServer {
  retrains = 0;
  active = create(MatchingModelSchema, {
    version: 3,
    trainingPairs: 593,
    reviewerPairs: 5,
    heldBackPairs: 145,
    heldBackPrecision: 0.977,
    heldBackRecall: 1,
    trainedAt: timestampFromDate(new Date('2026-12-07T20:00:00Z')),
  });

  routes = (router: ConnectRouter): void => {
    router.service(VendorService, {
      getMatchingModel: () => this.active,
      retrainMatchingModel: () => {
        this.retrains++;
        this.active = create(MatchingModelSchema, { ...this.active, version: 4, reviewerPairs: 6 });
        return { model: this.active, trainedNow: true };
      },
    });
  };
}

describe('Matching model settings', () => {
  async function render(role: string, backend: ModelServer) {
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    auth.role = role;
    TestBed.configureTestingModule({
      providers: [provideRouter([]), ...provideSessionAgainst(auth, undefined, backend.routes)],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(MatchingModelCard);
    const page = await renderUntil(fixture, (shown) => shown.querySelector('dl') !== null);
    return { fixture, page };
  }

  it('shows the version, the training pairs and the held-back precision and recall, and an admin retrains it', async () => {
    const backend = new ModelServer();
    const { fixture, page } = await render('admin', backend);
    const shown = Array.from(page.querySelectorAll('dt')).map(
      (term) => `${term.textContent!.trim()}: ${term.nextElementSibling!.textContent!.trim()}`,
    );
    expect(shown.slice(0, 4)).toEqual([
      'Version: 3',
      'Training pairs: 593 (of them confirmed by people: 5)',
      'Held-back precision: 97.7 %',
      'Held-back recall: 100.0 % on 145 held-back pairs',
    ]);

    Array.from(page.querySelectorAll('button'))
      .find((button) => button.textContent?.trim() === 'Retrain now')!
      .click();
    await renderUntil(fixture, (shown) => shown.textContent!.includes('Trained version 4.'));

    expect(backend.retrains).toBe(1);
  });

  it('offers retraining to admins only', async () => {
    const { page } = await render('clerk', new ModelServer());

    expect(page.textContent).not.toContain('Retrain now');
  });
});
