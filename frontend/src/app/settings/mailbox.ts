import { ChangeDetectionStrategy, Component, type OnInit, signal } from '@angular/core';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';

import {
  IntakeService,
  type Mailbox as MailboxState,
  MailboxSettingsSchema,
} from '../../gen/invisible/intake/v1/intake_pb';
import { injectClient } from '../rpc/transport';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';

type TlsMode = 'implicit' | 'starttls' | 'none';

/** The port a TLS mode usually goes with, offered when the admin switches mode on an untouched port. */
const usualPort: Record<TlsMode, number> = { implicit: 993, starttls: 143, none: 143 };

/**
 * The IMAP mailbox the product reads invoices from: where and as whom it signs in, the folders messages are moved to, a
 * test that shows the server's own answer, and how polling is going. The password is write-only: the server never sends
 * it back, so the field stays empty and an empty field keeps the stored one.
 */
@Component({
  selector: 'app-mailbox',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  templateUrl: './mailbox.html',
  styles: `
    dl.status {
      display: grid;
      grid-template-columns: max-content 1fr;
      gap: 0.25rem 1rem;
    }
    dd {
      margin: 0;
    }
    .alert-text {
      color: var(--color-danger, #b42318);
    }
  `,
})
export class MailboxSettingsCard implements OnInit {
  private readonly intake = injectClient(IntakeService);

  protected readonly mailbox = new Loadable(async () => this.show(await this.intake.getMailbox({})));
  protected readonly host = signal('');
  protected readonly port = signal(993);
  protected readonly tls = signal<TlsMode>('implicit');
  protected readonly username = signal('');
  protected readonly password = signal('');
  protected readonly processedFolder = signal('Processed');
  protected readonly failedFolder = signal('Failed');

  protected readonly saving = new RpcAction();
  protected readonly testing = new RpcAction();
  protected readonly disconnecting = new RpcAction();
  protected readonly notice = signal('');
  /** The last test's outcome: ok and the server's answer, or why it failed. */
  protected readonly tested = signal<{ ok: boolean; answer: string } | undefined>(undefined);

  ngOnInit(): void {
    void this.mailbox.load();
  }

  protected text(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected setTls(event: Event): void {
    const mode = (event.target as HTMLSelectElement).value as TlsMode;
    if (this.port() === usualPort[this.tls()]) {
      this.port.set(usualPort[mode]);
    }
    this.tls.set(mode);
  }

  protected setPort(event: Event): void {
    this.port.set(Number((event.target as HTMLInputElement).value));
  }

  protected async save(event: Event): Promise<void> {
    event.preventDefault();
    this.notice.set('');
    await this.saving.run(async () => {
      const saved = await this.intake.setMailbox({ settings: this.settings(), password: this.password() });
      this.password.set('');
      this.mailbox.set(this.show(saved));
      this.notice.set('Mailbox connected: new messages are taken in from now on.');
    });
  }

  protected async test(): Promise<void> {
    this.tested.set(undefined);
    await this.testing.run(async () => {
      const result = await this.intake.testMailbox({ settings: this.settings(), password: this.password() });
      this.tested.set({ ok: result.ok, answer: result.answer });
    });
  }

  protected async disconnect(): Promise<void> {
    this.notice.set('');
    await this.disconnecting.run(async () => {
      this.mailbox.set(this.show(await this.intake.disconnectMailbox({})));
      this.notice.set('Mailbox disconnected: nothing more is read from it.');
    });
  }

  protected when(at: Timestamp | undefined): string {
    return at === undefined
      ? 'not yet'
      : new Date(Number(at.seconds) * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  }

  private settings(): MessageInitShape<typeof MailboxSettingsSchema> {
    return {
      host: this.host().trim(),
      port: this.port(),
      tls: this.tls(),
      username: this.username().trim(),
      processedFolder: this.processedFolder().trim(),
      failedFolder: this.failedFolder().trim(),
    };
  }

  private show(mailbox: MailboxState): MailboxState {
    const settings = mailbox.settings;
    if (mailbox.connected && settings !== undefined) {
      this.host.set(settings.host);
      this.port.set(settings.port);
      this.tls.set(settings.tls as TlsMode);
      this.username.set(settings.username);
      this.processedFolder.set(settings.processedFolder);
      this.failedFolder.set(settings.failedFolder);
    }
    return mailbox;
  }
}
