import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';

import {
  IntakeService,
  MailboxSchema,
  type SetMailboxRequest,
} from '../../gen/invisible/intake/v1/intake_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { MailboxSettingsCard } from './mailbox';

/** An in-test stand-in of our IntakeService's mailbox calls: none connected, a test that the server refuses, a save. */
function mailboxService(saved: SetMailboxRequest[]) {
  return (router: ConnectRouter) =>
    router.service(IntakeService, {
      getMailbox: () => create(MailboxSchema, { connected: false }),
      testMailbox: () => ({
        ok: false,
        answer:
          'The server refused the user name or password. The server said: A1 NO [AUTHENTICATIONFAILED] Authentication failed.',
      }),
      setMailbox: (request) => {
        saved.push(request);
        return create(MailboxSchema, {
          connected: true,
          passwordStored: true,
          messagesProcessed: 0n,
          settings: request.settings,
        });
      },
    });
}

function type(page: HTMLElement, id: string, value: string): void {
  const input = page.querySelector<HTMLInputElement>(`#${id}`)!;
  input.value = value;
  input.dispatchEvent(new Event('input'));
}

function button(page: HTMLElement, label: string): HTMLButtonElement {
  return Array.from(page.querySelectorAll('button')).find((b) => b.textContent?.trim() === label)!;
}

describe('e-mail mailbox settings', () => {
  it('shows the server’s refusal on Test and connects with the password, which is not kept in the form', async () => {
    const saved: SetMailboxRequest[] = [];
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    TestBed.configureTestingModule({
      providers: [provideRouter([]), ...provideSessionAgainst(auth, undefined, mailboxService(saved))],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(MailboxSettingsCard);
    const page = await renderUntil(fixture, (shown) =>
      shown.textContent!.includes('No mailbox is connected'),
    );

    type(page, 'mailbox-host', 'imap.example.com');
    type(page, 'mailbox-user', 'ap@example.com');
    type(page, 'mailbox-password', 'wrong');
    button(page, 'Test connection').click();
    await renderUntil(fixture, (shown) => shown.querySelector('[data-testid="mailbox-test"]') !== null);
    expect(page.querySelector('[data-testid="mailbox-test"]')?.textContent).toContain('AUTHENTICATIONFAILED');

    type(page, 'mailbox-password', 's3cret');
    button(page, 'Connect mailbox').click();
    await renderUntil(fixture, (shown) => shown.textContent!.includes('Mailbox connected'));
    expect(
      saved.map((request) => [request.settings?.host, request.settings?.port, request.password]),
    ).toEqual([['imap.example.com', 993, 's3cret']]);
    expect(page.querySelector<HTMLInputElement>('#mailbox-password')!.value).toBe('');
    expect(page.querySelector('[data-testid="mailbox-status"]')?.textContent).toContain('Messages taken in');
  });
});
