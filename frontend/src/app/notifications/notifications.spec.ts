import { TestBed } from '@angular/core/testing';
import { ActivatedRoute, provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';

import {
  NotificationPreferencesSchema,
  NotificationService,
  type SetNotificationPreferencesRequest,
} from '../../gen/invisible/notifications/v1/notifications_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { NotificationPreferencesCard } from './notification-preferences';
import { Unsubscribe } from './unsubscribe';

const kinds = ['exception_assigned', 'approval_waiting', 'import_rejected', 'quickbooks_export_failed'];

/** An in-test stand-in of our NotificationService: everything on, saves echoed, one unsubscribe token known. */
function notificationService(saved: SetNotificationPreferencesRequest[], unsubscribed: string[]) {
  return (router: ConnectRouter) =>
    router.service(NotificationService, {
      getNotificationPreferences: () =>
        create(NotificationPreferencesSchema, {
          digestHour: 7,
          preferences: kinds.map((kind) => ({
            kind,
            email: true,
            inApp: true,
            digest: kind !== 'import_rejected' && kind !== 'quickbooks_export_failed',
            description: kind,
          })),
        }),
      setNotificationPreferences: (request) => {
        saved.push(request);
        return create(NotificationPreferencesSchema, {
          digestHour: 7,
          preferences: kinds.map(
            (kind) =>
              request.preferences.find((p) => p.kind === kind) ?? {
                kind,
                email: true,
                inApp: true,
                digest: true,
              },
          ),
        });
      },
      unsubscribe: (request) => {
        unsubscribed.push(request.token);
        return { turnedOff: 'You will no longer receive e-mails when: an exception is assigned to you.' };
      },
    });
}

async function signedIn(
  saved: SetNotificationPreferencesRequest[],
  unsubscribed: string[],
  fragment = '',
): Promise<void> {
  const auth = new AuthServerStandIn();
  auth.tenantRequiresMfa = false;
  TestBed.configureTestingModule({
    providers: [
      provideRouter([]),
      ...provideSessionAgainst(auth, undefined, notificationService(saved, unsubscribed)),
      { provide: ActivatedRoute, useValue: { snapshot: { fragment } } },
    ],
  });
  await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
}

describe('notification preferences', () => {
  it('turns e-mail of one kind off and leaves its other channels as they were', async () => {
    const saved: SetNotificationPreferencesRequest[] = [];
    await signedIn(saved, []);
    const fixture = TestBed.createComponent(NotificationPreferencesCard);
    const page = await renderUntil(fixture, (shown) => shown.querySelector('table') !== null);

    page.querySelector<HTMLInputElement>('input[aria-label="Exception assigned to you by e-mail"]')!.click();
    await renderUntil(fixture, (shown) => shown.textContent!.includes('Saved.'));

    expect(
      saved.map((request) => request.preferences.map((p) => [p.kind, p.email, p.inApp, p.digest])),
    ).toEqual([[['exception_assigned', false, true, true]]]);
  });

  it('offers the digest only for kinds that wait for someone', async () => {
    await signedIn([], []);
    const fixture = TestBed.createComponent(NotificationPreferencesCard);
    const page = await renderUntil(fixture, (shown) => shown.querySelector('table') !== null);

    expect(
      Array.from(page.querySelectorAll('input[aria-label$="in the daily digest"]')).map((input) =>
        input.getAttribute('aria-label'),
      ),
    ).toEqual([
      'Exception assigned to you in the daily digest',
      'Approval waiting for you in the daily digest',
    ]);
  });
});

describe('unsubscribe page', () => {
  it('turns the e-mails off only when the button is pressed, with the token from the fragment', async () => {
    const unsubscribed: string[] = [];
    await signedIn([], unsubscribed, 'token=abc.def');
    const fixture = TestBed.createComponent(Unsubscribe);
    const page = await renderUntil(fixture, (shown) => shown.querySelector('button') !== null);
    const before = [...unsubscribed];

    page.querySelector('button')!.click();
    await renderUntil(fixture, (shown) => shown.querySelector('[data-testid="unsubscribed"]') !== null);

    expect([before, unsubscribed]).toEqual([[], ['abc.def']]);
  });
});
