import { ChangeDetectionStrategy, Component, inject, type OnInit, signal } from '@angular/core';
import { ActivatedRoute, RouterLink } from '@angular/router';

import { VendorService } from '../../gen/invisible/vendors/v1/vendors_pb';
import { injectClient } from '../rpc/transport';
import { formatTimestamp } from '../shared/format';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';

const aliasKinds: Partial<Record<string, string>> = { name: 'Name', tax_id: 'Tax id' };
const aliasSources: Partial<Record<string, string>> = {
  master: 'Vendor master',
  import: 'Seen on an import',
  reviewer: 'Confirmed by a reviewer',
  model: 'Learned by the matcher',
};

/** One vendor with every name and tax id it has been recognised under. */
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
  template: `
    <p><a routerLink="/vendors">← All vendors</a></p>
    <div [attr.aria-busy]="vendorDetail.loading()">
      @if (vendorDetail.value(); as detail) {
        @let vendor = detail.vendor;
        <h1>{{ vendor?.name || code() }}</h1>
        <section class="card" aria-labelledby="master-heading">
          <h2 id="master-heading">Vendor master</h2>
          <dl>
            <dt>Code</dt>
            <dd>{{ vendor?.vendorCode }}</dd>
            <dt>Tax id</dt>
            <dd>{{ vendor?.taxId || '—' }}</dd>
            <dt>Country</dt>
            <dd>{{ vendor?.country || '—' }}</dd>
            <dt>Currency</dt>
            <dd>{{ vendor?.currency || '—' }}</dd>
            <dt>E-mail</dt>
            <dd>{{ detail.email || '—' }}</dd>
            <dt>Payment terms</dt>
            <dd>{{ detail.paymentTerms || '—' }}</dd>
            <dt>Open exceptions</dt>
            <dd>{{ vendor?.openExceptionCount ?? 0 }}</dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="aliases-heading">
          <h2 id="aliases-heading">Aliases</h2>
          <p class="muted">
            The names and tax ids invoices have used for this vendor; the matcher recognises each of them.
          </p>
          @if (detail.aliases.length === 0) {
            <p>No aliases yet.</p>
          } @else {
            <div class="table-scroll">
              <table class="data" aria-label="Aliases">
                <thead>
                  <tr>
                    <th scope="col">Kind</th>
                    <th scope="col">As printed</th>
                    <th scope="col">Source</th>
                    <th scope="col">Since</th>
                  </tr>
                </thead>
                <tbody>
                  @for (alias of detail.aliases; track $index) {
                    <tr>
                      <td>{{ aliasKinds[alias.kind] ?? alias.kind }}</td>
                      <td>{{ alias.value }}</td>
                      <td>{{ aliasSources[alias.source] ?? alias.source }}</td>
                      <td>{{ formatTimestamp(alias.createdAt) }}</td>
                    </tr>
                  }
                </tbody>
              </table>
            </div>
          }
        </section>
      } @else {
        <h1>Vendor {{ code() }}</h1>
        <app-load-status [of]="vendorDetail" loading="Loading the vendor…" />
      }
    </div>
  `,
})
export class VendorDetailPage implements OnInit {
  private readonly vendors = injectClient(VendorService);
  protected readonly code = signal(inject(ActivatedRoute).snapshot.paramMap.get('code') ?? '');
  protected readonly aliasKinds = aliasKinds;
  protected readonly aliasSources = aliasSources;
  protected readonly formatTimestamp = formatTimestamp;

  protected readonly vendorDetail = new Loadable(() => this.vendors.getVendor({ vendorCode: this.code() }));

  ngOnInit(): void {
    void this.vendorDetail.load();
  }
}
