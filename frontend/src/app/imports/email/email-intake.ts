import { ChangeDetectionStrategy, Component, inject, type OnInit, signal } from '@angular/core';
import { RouterLink } from '@angular/router';

import {
  IntakeService,
  type IntakeMessage,
  type ListMessagesResponse,
} from '../../../gen/invisible/intake/v1/intake_pb';
import { injectClient } from '../../rpc/transport';
import { CurrentUser } from '../../shared/current-user';
import { Loadable } from '../../shared/load-state';
import { LoadStatus } from '../../shared/load-status';
import { PageTokens } from '../../shared/page-tokens';
import { Pager } from '../../shared/pager';
import { RpcAction } from '../../shared/rpc-action';

const pageSize = 50;

/** Words for the outcomes the intake records, as a clerk reads them. */
const outcomeLabels: Readonly<Record<string, string>> = {
  imported: 'Imported',
  duplicate: 'Already imported',
  rejected: 'Rejected',
  held: 'Held',
  to_key: 'To key',
  keyed: 'Keyed',
  ignored: 'Ignored',
  unreadable: 'Unreadable',
  discarded: 'Discarded',
};

/**
 * Imports → E-mail: every message the intake received (SMTP or a connected mailbox) with what became of each
 * attachment; a clerk releases or discards a held message. The tenant's address and allowlist are shown above.
 */
@Component({
  selector: 'app-email-intake',
  imports: [LoadStatus, Pager, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../../shared/forms.css', './email-intake.css'],
  templateUrl: './email-intake.html',
})
export class EmailIntake implements OnInit {
  private readonly intake = injectClient(IntakeService);
  protected readonly user = inject(CurrentUser);

  protected readonly status = signal('');
  protected readonly pages = new PageTokens();
  protected readonly messages = new Loadable<ListMessagesResponse>(() =>
    this.intake.listMessages({ status: this.status(), pageSize, pageToken: this.pages.current }),
  );
  protected readonly settings = new Loadable(() => this.intake.getIntakeSettings({}));
  protected readonly deciding = new RpcAction();

  ngOnInit(): void {
    void this.user.load();
    void this.messages.load();
    void this.settings.load();
  }

  protected outcome(value: string): string {
    return outcomeLabels[value] ?? value;
  }

  protected filter(event: Event): void {
    this.status.set((event.target as HTMLSelectElement).value);
    this.pages.reset();
    void this.messages.load();
  }

  protected next(token: string): void {
    this.pages.next(token);
    void this.messages.load();
  }

  protected previous(): void {
    this.pages.back();
    void this.messages.load();
  }

  protected async release(message: IntakeMessage): Promise<void> {
    if (await this.deciding.run(() => this.intake.releaseMessage({ messageId: message.id }))) {
      await this.messages.load();
    }
  }

  protected async discard(message: IntakeMessage): Promise<void> {
    if (await this.deciding.run(() => this.intake.discardMessage({ messageId: message.id }))) {
      await this.messages.load();
    }
  }

  protected received(message: IntakeMessage): string {
    const at = message.receivedAt;
    return at
      ? new Date(Number(at.seconds) * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC'
      : '';
  }
}
