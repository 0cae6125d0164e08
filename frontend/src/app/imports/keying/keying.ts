import { ChangeDetectionStrategy, Component, computed, inject, type OnInit, signal } from '@angular/core';
import { DomSanitizer, type SafeResourceUrl } from '@angular/platform-browser';
import { ActivatedRoute, RouterLink } from '@angular/router';

import {
  KeyingService,
  type KeyedInvoiceResult,
  type OpenPurchaseOrder,
  type OpenPurchaseOrderLine,
  type ToKeyItemDetail,
} from '../../../gen/invisible/keying/v1/keying_pb';
import { type Vendor, VendorService } from '../../../gen/invisible/vendors/v1/vendors_pb';
import { RpcError } from '../../rpc/errors';
import { injectClient } from '../../rpc/transport';
import { formatTimestamp } from '../../shared/dates';
import { Loadable } from '../../shared/load-state';
import { LoadStatus } from '../../shared/load-status';
import { RpcAction } from '../../shared/rpc-action';
import { type LineDraft, lineAmount, linesTotal } from './keyed-lines';

/** Only our own PDF route may be framed: the URL comes from the server, and the CSP allows frames of our origin only. */
const pdfPath = /^\/v1\/keying\/items\/[0-9a-f]{32}-\d+\/pdf\?ticket=[A-Za-z0-9_%.-]+$/;

/** The vendor the invoice is from, as the clerk settled it, and where that came from (the sender, a PO, the clerk). */
interface ChosenVendor {
  readonly code: string;
  readonly name: string;
  readonly from: string;
}

function emptyLine(): LineDraft {
  return { sku: '', description: '', quantity: '', unitPrice: '', amount: '' };
}

/**
 * Imports → To key → one PDF: the PDF (served by our origin, in a frame) beside the form a clerk keys the invoice with.
 * The PO picker fills lines from the PO's open lines; the server's field violations are shown beside their fields.
 * The vendor (prefilled from the sender, then the looked-up PO's, or found and chosen) is sent by code: the server
 * remembers the printed name as that vendor's.
 */
@Component({
  selector: 'app-keying',
  imports: [LoadStatus, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../../shared/forms.css', './keying.css'],
  templateUrl: './keying.html',
})
export class Keying implements OnInit {
  /** From the route (`/imports/to-key/:itemId`); a new item is a new visit to the page. */
  private readonly itemId = signal(inject(ActivatedRoute).snapshot.paramMap.get('itemId') ?? '');

  private readonly keying = injectClient(KeyingService);
  private readonly vendorDirectory = injectClient(VendorService);
  private readonly sanitizer = inject(DomSanitizer);

  protected readonly detail = new Loadable<ToKeyItemDetail>(() =>
    this.keying.getToKeyItem({ itemId: this.itemId() }),
  );
  protected readonly pdf = computed<SafeResourceUrl | undefined>(() => {
    const url = this.detail.value()?.pdfUrl;
    return url && pdfPath.test(url) ? this.sanitizer.bypassSecurityTrustResourceUrl(url) : undefined;
  });
  protected readonly received = formatTimestamp;

  protected readonly vendorName = signal('');
  protected readonly invoiceNumber = signal('');
  protected readonly invoiceDate = signal('');
  protected readonly dueDate = signal('');
  protected readonly currency = signal('');
  protected readonly poNumber = signal('');
  protected readonly taxAmount = signal('');
  protected readonly invoiceTotal = signal('');
  protected readonly lines = signal<readonly LineDraft[]>([emptyLine()]);
  protected readonly computedTotal = computed(() => linesTotal(this.lines(), this.taxAmount()));

  protected readonly vendor = signal<ChosenVendor | undefined>(undefined);
  protected readonly vendorQuery = signal('');
  protected readonly vendorMatches = signal<readonly Vendor[]>([]);
  protected readonly findingVendor = new RpcAction();

  protected readonly purchaseOrder = signal<OpenPurchaseOrder | undefined>(undefined);
  protected readonly picking = new RpcAction();
  protected readonly submitting = new RpcAction();
  protected readonly discarding = new RpcAction();
  protected readonly violations = signal<Readonly<Record<string, string>>>({});
  protected readonly keyed = signal<KeyedInvoiceResult | undefined>(undefined);
  protected readonly discarded = signal(false);

  async ngOnInit(): Promise<void> {
    await this.detail.load();
    const prefill = this.detail.value()?.prefill;
    if (prefill) {
      this.vendorName.set(prefill.vendorName);
      this.currency.set(prefill.currency);
      this.invoiceDate.set(prefill.invoiceDate);
      if (prefill.vendorCode !== '') {
        this.vendor.set({ code: prefill.vendorCode, name: prefill.vendorName, from: 'the sender' });
      }
    }
  }

  protected text(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected violation(field: string): string | undefined {
    return this.violations()[field];
  }

  protected setLine(index: number, field: keyof LineDraft, value: string): void {
    this.lines.update((lines) =>
      lines.map((line, i) => {
        if (i !== index) return line;
        const changed = { ...line, [field]: value };
        // The amount follows quantity and price until the clerk types one of their own.
        if (
          (field === 'quantity' || field === 'unitPrice') &&
          (line.amount === '' || line.amount === lineAmount(line.quantity, line.unitPrice))
        ) {
          changed.amount = lineAmount(changed.quantity, changed.unitPrice) ?? '';
        }
        return changed;
      }),
    );
  }

  protected addLine(): void {
    this.lines.update((lines) => [...lines, emptyLine()]);
  }

  protected removeLine(index: number): void {
    this.lines.update((lines) => (lines.length > 1 ? lines.filter((_, i) => i !== index) : lines));
  }

  protected async loadPurchaseOrder(): Promise<void> {
    const poNumber = this.poNumber().trim();
    if (poNumber === '') {
      this.picking.fail('Enter the PO number printed on the invoice first.');
      return;
    }
    await this.picking.run(async () => {
      const order = await this.keying.listOpenPurchaseOrderLines({ poNumber });
      this.purchaseOrder.set(order);
      this.poNumber.set(order.poNumber);
      if (this.vendorName() === '') this.vendorName.set(order.vendorName);
      if (this.currency() === '') this.currency.set(order.currency);
      // The PO names its vendor outright: stronger than the sender's address.
      if (order.vendorCode !== '')
        this.vendor.set({ code: order.vendorCode, name: order.vendorName, from: order.poNumber });
    });
  }

  protected async findVendors(): Promise<void> {
    const query = this.vendorQuery().trim();
    if (query === '') {
      this.findingVendor.fail('Enter part of the vendor’s code or name first.');
      return;
    }
    await this.findingVendor.run(async () => {
      const found = await this.vendorDirectory.listVendors({ query, pageSize: 10 });
      // A merged vendor stands for its survivor, which the search finds too; only current vendors can be chosen.
      this.vendorMatches.set(found.vendors.filter((v) => v.mergedIntoCode === ''));
      if (this.vendorMatches().length === 0) this.findingVendor.fail(`No vendor matches “${query}”.`);
    });
  }

  protected chooseVendor(chosen: Vendor): void {
    this.vendor.set({ code: chosen.vendorCode, name: chosen.name, from: 'your choice' });
    this.vendorMatches.set([]);
    this.vendorQuery.set('');
  }

  protected clearVendor(): void {
    this.vendor.set(undefined);
  }

  /** Takes a PO line as an invoice line (into the first empty line, else a new one). */
  protected pick(poLine: OpenPurchaseOrderLine): void {
    const line: LineDraft = {
      sku: poLine.sku,
      description: poLine.description,
      quantity: poLine.quantity,
      unitPrice: poLine.unitPrice,
      amount: lineAmount(poLine.quantity, poLine.unitPrice) ?? '',
    };
    this.lines.update((lines) => {
      const empty = lines.findIndex((l) => l.description === '' && l.quantity === '' && l.unitPrice === '');
      return empty >= 0 ? lines.map((l, i) => (i === empty ? line : l)) : [...lines, line];
    });
  }

  protected pickAll(): void {
    for (const line of this.purchaseOrder()?.lines ?? []) this.pick(line);
  }

  protected useComputedTotal(): void {
    const total = this.computedTotal();
    if (total !== undefined) this.invoiceTotal.set(total);
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    this.violations.set({});
    await this.submitting.run(async () => {
      try {
        this.keyed.set(
          await this.keying.submitKeyedInvoice({
            itemId: this.itemId(),
            vendorName: this.vendorName(),
            invoiceNumber: this.invoiceNumber(),
            invoiceDate: this.invoiceDate(),
            dueDate: this.dueDate(),
            currency: this.currency(),
            poNumber: this.poNumber(),
            lines: this.lines().map((line) => ({ ...line })),
            taxAmount: this.taxAmount(),
            invoiceTotal: this.invoiceTotal(),
            vendorCode: this.vendor()?.code ?? '',
          }),
        );
      } catch (failure) {
        if (failure instanceof RpcError) {
          this.violations.set(
            Object.fromEntries(failure.fieldViolations.map((v) => [v.field, v.description])),
          );
        }
        throw failure;
      }
    });
  }

  protected async discard(): Promise<void> {
    if (
      await this.discarding.run(() =>
        this.keying.discardToKeyItem({ itemId: this.itemId(), reason: 'not an invoice to key' }),
      )
    ) {
      this.discarded.set(true);
    }
  }
}
