import { DOCUMENT } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject, type OnInit, signal } from '@angular/core';
import { ActivatedRoute } from '@angular/router';

import { type Export, QuickBooksService } from '../../gen/invisible/quickbooks/v1/quickbooks_pb';
import { SessionService } from '../session/session';
import { injectClient } from '../rpc/transport';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';
import { QuickBooksMappingSettings } from './quickbooks-mapping';

/** What the callback's redirect (`?quickbooks=…`) means, in the user's words. */
const callbackResults: Readonly<Record<string, string>> = {
  connected: 'QuickBooks is connected.',
  refused: 'QuickBooks was not connected: the consent was declined.',
  expired: 'The connection attempt expired or was already used. Start it again.',
  failed: 'QuickBooks did not accept the connection. Start it again.',
};

/**
 * Settings → QuickBooks: the connected company, its default expense account, whether missing vendors are created, and
 * the exports that failed or differ from what QuickBooks holds, each with a retry (failed) or the reason (differs).
 */
@Component({
  selector: 'app-quickbooks-settings',
  imports: [LoadStatus, QuickBooksMappingSettings],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  templateUrl: './quickbooks.html',
})
export class QuickBooksSettings implements OnInit {
  private readonly quickbooks = injectClient(QuickBooksService);
  private readonly document = inject(DOCUMENT);
  private readonly session = inject(SessionService);

  protected readonly isAdmin = computed(() => this.session.role() === 'admin');
  protected readonly callbackNotice = signal(
    callbackResults[inject(ActivatedRoute).snapshot.queryParamMap.get('quickbooks') ?? ''] ?? '',
  );
  protected readonly connection = new Loadable(async () => {
    const connection = await this.quickbooks.getConnection({});
    this.account.set(connection.defaultExpenseAccountId);
    this.createVendors.set(connection.createMissingVendors);
    return connection;
  });
  protected readonly problems = new Loadable(async () => {
    const [failed, differs] = await Promise.all([
      this.quickbooks.listExports({ state: 'failed' }),
      this.quickbooks.listExports({ state: 'differs' }),
    ]);
    return [...failed.exports, ...differs.exports];
  });
  protected readonly account = signal('');
  protected readonly createVendors = signal(false);
  protected readonly connecting = new RpcAction();
  protected readonly saving = new RpcAction();
  protected readonly retrying = new RpcAction();
  protected readonly notice = signal('');

  ngOnInit(): void {
    void this.connection.load();
    void this.problems.load();
  }

  protected async connect(): Promise<void> {
    await this.connecting.run(async () => {
      const redirectUri = `${this.document.location.origin}/quickbooks/callback`;
      const { authorizeUrl } = await this.quickbooks.startConnect({ redirectUri });
      this.document.location.assign(authorizeUrl);
    });
  }

  protected async disconnect(): Promise<void> {
    await this.connecting.run(async () => {
      this.connection.set(await this.quickbooks.disconnect({}));
      this.notice.set('QuickBooks is disconnected; its tokens were revoked.');
    });
  }

  protected async save(event: Event): Promise<void> {
    event.preventDefault();
    this.notice.set('');
    await this.saving.run(async () => {
      this.connection.set(
        await this.quickbooks.configure({
          defaultExpenseAccountId: this.account().trim(),
          createMissingVendors: this.createVendors(),
        }),
      );
      this.notice.set('QuickBooks settings saved.');
    });
  }

  protected async retry(item: Export): Promise<void> {
    await this.retrying.run(async () => {
      const after = await this.quickbooks.retryExport({ invoiceId: item.invoiceId });
      this.notice.set(
        `Invoice ${after.invoiceNumber}: ${after.state}${after.reason ? ' — ' + after.reason : ''}`,
      );
      await this.problems.load();
      await this.connection.load();
    });
  }

  protected text(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected checked(event: Event): boolean {
    return (event.target as HTMLInputElement).checked;
  }
}
