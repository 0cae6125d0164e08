import { ChangeDetectionStrategy, Component, type OnInit, input, output, signal } from '@angular/core';

import {
  type CompanyLists,
  type Connection,
  QuickBooksService,
  type VendorMapping,
} from '../../gen/invisible/quickbooks/v1/quickbooks_pb';
import { injectClient } from '../rpc/transport';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';

/** A vendor row's choices before they are saved. */
interface VendorChoice {
  qboVendorId: string;
  expenseAccountId: string;
  itemId: string;
}

/**
 * Settings → QuickBooks → Mapping (admins): the tenant's default expense account, item and tax code, and per vendor the
 * QuickBooks vendor and its own account or item, each chosen from the lists the company holds now. Saving is audited; a
 * vendor's waiting invoices are exported as soon as it is mapped.
 */
@Component({
  selector: 'app-quickbooks-mapping',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  templateUrl: './quickbooks-mapping.html',
})
export class QuickBooksMappingSettings implements OnInit {
  private readonly quickbooks = injectClient(QuickBooksService);

  readonly connection = input.required<Connection>();
  /** The connection as the defaults form saved it. */
  readonly saved = output<Connection>();

  protected readonly lists = new Loadable<CompanyLists>(() => this.quickbooks.getCompanyLists({}));
  protected readonly vendors = new Loadable<VendorMapping[]>(async () => {
    const { mappings } = await this.quickbooks.listVendorMappings({});
    this.choices.set(
      Object.fromEntries(
        mappings.map((m) => [
          m.vendorId,
          { qboVendorId: m.qboVendorId, expenseAccountId: m.expenseAccountId, itemId: m.itemId },
        ]),
      ),
    );
    return mappings;
  });
  protected readonly account = signal('');
  protected readonly item = signal('');
  protected readonly taxCode = signal('');
  protected readonly choices = signal<Record<string, VendorChoice>>({});
  protected readonly savingDefaults = new RpcAction();
  protected readonly savingVendor = new RpcAction();
  protected readonly notice = signal('');

  ngOnInit(): void {
    const connection = this.connection();
    this.account.set(connection.defaultExpenseAccountId);
    this.item.set(connection.defaultItemId);
    this.taxCode.set(connection.defaultTaxCodeId);
    void this.lists.load();
    void this.vendors.load();
  }

  protected async saveDefaults(event: Event): Promise<void> {
    event.preventDefault();
    this.notice.set('');
    await this.savingDefaults.run(async () => {
      this.saved.emit(
        await this.quickbooks.configure({
          defaultExpenseAccountId: this.account(),
          defaultItemId: this.item(),
          defaultTaxCodeId: this.taxCode(),
        }),
      );
      this.notice.set('Mapping defaults saved.');
    });
  }

  protected choose(vendorId: string, field: keyof VendorChoice, value: string): void {
    this.choices.update((all) => ({ ...all, [vendorId]: { ...this.choiceOf(vendorId), [field]: value } }));
  }

  protected choiceOf(vendorId: string): VendorChoice {
    return this.choices()[vendorId] ?? { qboVendorId: '', expenseAccountId: '', itemId: '' };
  }

  protected async saveVendor(vendor: VendorMapping): Promise<void> {
    this.notice.set('');
    const choice = this.choiceOf(vendor.vendorId);
    if (!choice.qboVendorId) {
      this.savingVendor.fail(`Choose the QuickBooks vendor for ${vendor.vendorCode}.`);
      return;
    }
    await this.savingVendor.run(async () => {
      const saved = await this.quickbooks.setVendorMapping({ vendorId: vendor.vendorId, ...choice });
      this.notice.set(
        `${vendor.vendorCode} ${vendor.vendorName} now goes to ${saved.qboVendorName} in QuickBooks.`,
      );
      await this.vendors.load();
    });
  }

  protected value(event: Event): string {
    return (event.target as HTMLSelectElement).value;
  }
}
