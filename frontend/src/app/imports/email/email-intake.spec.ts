import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';

import {
  IntakeAttachmentSchema,
  type IntakeMessage,
  IntakeMessageSchema,
  IntakeService,
} from '../../../gen/invisible/intake/v1/intake_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../../session/auth-server.testing';
import { SessionService } from '../../session/session';
import { renderUntil } from '../../shared/settle.testing';
import { EmailIntake } from './email-intake';

/** An in-test stand-in of our IntakeService: one held message that a release processes. */
function intakeService(released: string[]) {
  let message: IntakeMessage = create(IntakeMessageSchema, {
    id: 'm1',
    messageNo: 7n,
    source: 'smtp',
    from: 'stranger@elsewhere.example',
    subject: 'Invoice A-1',
    status: 'held',
    trust: 'held: sender not recognised (stranger@elsewhere.example)',
    attachments: [create(IntakeAttachmentSchema, { path: 'invoice.csv', outcome: 'held' })],
  });
  return (router: ConnectRouter) =>
    router.service(IntakeService, {
      listMessages: () => ({
        messages: [message],
        heldCount: message.status === 'held' ? 1 : 0,
        toKeyCount: 2,
      }),
      getIntakeSettings: () => ({
        primaryAddress: 'demo@invoices.localhost',
        allowlist: ['@partner.example'],
      }),
      releaseMessage: (request) => {
        released.push(request.messageId);
        message = create(IntakeMessageSchema, {
          ...message,
          status: 'released',
          attachments: [
            create(IntakeAttachmentSchema, {
              path: 'invoice.csv',
              outcome: 'imported',
              note: 'imported as import #12, 1 rows',
            }),
          ],
        });
        return message;
      },
    });
}

describe('e-mail intake', () => {
  it('shows the address and a held message, and a release imports its attachment', async () => {
    const released: string[] = [];
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    TestBed.configureTestingModule({
      providers: [provideRouter([]), ...provideSessionAgainst(auth, undefined, intakeService(released))],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(EmailIntake);

    const page = await renderUntil(fixture, (shown) => shown.textContent!.includes('Release and import'));
    expect(page.querySelector('[data-testid="intake-address"]')?.textContent).toBe('demo@invoices.localhost');
    expect(page.querySelector('[data-testid="intake-counts"]')?.textContent).toContain(
      '1 held · 2 PDFs to key',
    );
    expect(page.querySelector('tbody')?.textContent).toContain('Held');

    Array.from(page.querySelectorAll('button'))
      .find((button) => button.textContent?.trim() === 'Release and import')!
      .click();

    await renderUntil(
      fixture,
      (shown) => shown.querySelector('tbody')?.textContent?.includes('Imported') ?? false,
    );
    expect(released).toEqual(['m1']);
    expect(page.textContent).toContain('imported as import #12');
  });
});
