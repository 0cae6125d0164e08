import { ChangeDetectionStrategy, Component, computed, inject, type OnInit, signal } from '@angular/core';
import { ActivatedRoute, RouterLink } from '@angular/router';

import { type VendorAlias, VendorService } from '../../gen/invisible/vendors/v1/vendors_pb';
import { injectClient } from '../rpc/transport';
import { SessionService } from '../session/session';
import { formatTimestamp } from '../shared/format';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';

const aliasKinds: Partial<Record<string, string>> = { name: 'Name', tax_id: 'Tax id' };
const aliasSources: Partial<Record<string, string>> = {
  master: 'Vendor master',
  import: 'Seen on an import',
  reviewer: 'Confirmed by a reviewer',
  model: 'Learned by the matcher',
};
const decisions: Partial<Record<string, string>> = {
  assign_vendor: 'Vendor assigned to an invoice',
  rematch: 'Invoice re-matched to this vendor’s PO',
  approve_guess: 'Matcher’s guess approved',
  keyed_invoice: 'Keyed from a PDF invoice',
  merge: 'Merged vendor',
  operator: 'Confirmed by an operator',
};

/** Where a name came from: for one a person confirmed, the decision; else its source. */
export function whereFrom(alias: Pick<VendorAlias, 'source' | 'decision'>): string {
  return (
    (alias.decision ? decisions[alias.decision] : undefined) ?? aliasSources[alias.source] ?? alias.source
  );
}

/** One vendor with every name and tax id it has been recognised under and where each came from, and the merges into it. */
@Component({
  selector: 'app-vendor-detail',
  imports: [LoadStatus, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  styles: `
    dl {
      display: grid;
      grid-template-columns: max-content auto;
      gap: 0.375rem 1.5rem;
      margin: 0;
    }
    dt {
      font-weight: 600;
    }
    dd {
      margin: 0;
    }
  `,
  templateUrl: './vendor-detail.html',
})
export class VendorDetailPage implements OnInit {
  private readonly vendors = injectClient(VendorService);
  protected readonly code = signal(inject(ActivatedRoute).snapshot.paramMap.get('code') ?? '');
  protected readonly aliasKinds = aliasKinds;
  private readonly session = inject(SessionService);
  protected readonly whereFrom = whereFrom;
  protected readonly unmerging = new RpcAction();
  protected readonly mayChange = computed(() => this.session.hasRole('admin', 'clerk'));
  protected readonly formatTimestamp = formatTimestamp;

  protected readonly vendorDetail = new Loadable(() => this.vendors.getVendor({ vendorCode: this.code() }));

  ngOnInit(): void {
    void this.vendorDetail.load();
  }

  /** Restores what the merge changed; the server refuses, with its reason, once it is no longer safe. */
  protected async unmerge(mergeId: string): Promise<void> {
    await this.unmerging.run(async () => {
      await this.vendors.unmergeVendor({ mergeId });
      await this.vendorDetail.load();
    });
  }
}
