import { ChangeDetectionStrategy, Component, computed, inject, type OnInit, signal } from '@angular/core';
import { RouterLink } from '@angular/router';

import {
  type DuplicateCluster,
  type DuplicatePair,
  VendorService,
} from '../../gen/invisible/vendors/v1/vendors_pb';
import { injectClient } from '../rpc/transport';
import { SessionService } from '../session/session';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';

/** A probability as people read it: 0.934 → "93 %". */
export function percent(probability: number): string {
  return `${Math.round(probability * 100)} %`;
}

/**
 * Vendors → Possible duplicates: clusters of vendors that are probably one company, side by side with the evidence of
 * each pair and its score. Admins and clerks merge a cluster into the vendor they choose (the others become its aliases;
 * the vendor's page can undo it) or dismiss a pair, which the clusters then never join again.
 */
@Component({
  selector: 'app-vendor-duplicates',
  imports: [LoadStatus, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../shared/forms.css', './vendor-duplicates.css'],
  templateUrl: './vendor-duplicates.html',
})
export class VendorDuplicates implements OnInit {
  private readonly vendors = injectClient(VendorService);
  private readonly session = inject(SessionService);

  protected readonly percent = percent;
  protected readonly clusters = new Loadable(() => this.vendors.listDuplicateClusters({}));
  /** The survivor chosen per cluster id; the first vendor until someone chooses. */
  protected readonly survivors = signal<Record<string, string>>({});
  protected readonly merging = new RpcAction();
  protected readonly dismissing = new RpcAction();
  /** What the last merge did, for the status line. */
  protected readonly merged = signal<string | undefined>(undefined);

  protected readonly mayChange = computed(() => this.session.hasRole('admin', 'clerk'));

  ngOnInit(): void {
    void this.clusters.load();
  }

  protected survivorOf(cluster: DuplicateCluster): string {
    return this.survivors()[cluster.clusterId] ?? cluster.vendors[0]?.vendorCode ?? '';
  }

  protected choose(cluster: DuplicateCluster, code: string): void {
    this.survivors.update((chosen) => ({ ...chosen, [cluster.clusterId]: code }));
  }

  protected nameOf(cluster: DuplicateCluster, code: string): string {
    return cluster.vendors.find((vendor) => vendor.vendorCode === code)?.name ?? code;
  }

  protected async merge(cluster: DuplicateCluster): Promise<void> {
    const survivorCode = this.survivorOf(cluster);
    const mergedCodes = cluster.vendors
      .map((vendor) => vendor.vendorCode)
      .filter((code) => code !== survivorCode);
    await this.merging.run(async () => {
      const merge = await this.vendors.mergeVendors({ survivorCode, mergedCodes });
      this.merged.set(
        `${mergedCodes.join(', ')} merged into ${survivorCode}: ${merge.movedInvoices} invoice(s) and ` +
          `${merge.movedPurchaseOrders} purchase order(s) moved, ${merge.reevaluatedInvoices} invoice(s) re-decided.`,
      );
      await this.clusters.load();
    });
  }

  protected async dismiss(pair: DuplicatePair): Promise<void> {
    await this.dismissing.run(async () => {
      await this.vendors.dismissDuplicate({
        firstVendorCode: pair.firstVendorCode,
        secondVendorCode: pair.secondVendorCode,
      });
      await this.clusters.load();
    });
  }
}
