import { ChangeDetectionStrategy, Component, inject, type OnInit, signal } from '@angular/core';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';

import { VendorService } from '../../gen/invisible/vendors/v1/vendors_pb';
import { injectClient } from '../rpc/transport';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { PageTokens } from '../shared/page-tokens';
import { Pager } from '../shared/pager';

const pageSize = 50;

/** The vendor master: search by code, name or any alias; pages of 50 from the server. */
@Component({
  selector: 'app-vendors',
  imports: [LoadStatus, Pager, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  styles: `
    form {
      display: flex;
      flex-wrap: wrap;
      gap: 0.75rem;
      align-items: flex-end;
      margin-bottom: 1rem;
    }
    form .field {
      margin: 0;
      min-width: 18rem;
    }
    td.number {
      text-align: right;
      font-variant-numeric: tabular-nums;
    }
  `,
  template: `
    <h1>Vendors</h1>
    <p>
      <a routerLink="duplicates">Possible duplicates</a> — vendors of the master that are probably one
      company.
    </p>
    <form role="search" (submit)="search($event)">
      <div class="field">
        <label for="vendor-query">Search vendors</label>
        <input
          id="vendor-query"
          type="search"
          placeholder="Code, name, alias or tax id"
          [value]="query()"
          (input)="query.set(value($event))"
        />
      </div>
      <button class="button primary" type="submit">Search</button>
      @if (activeQuery() !== '') {
        <button class="button" type="button" (click)="clear()">Clear</button>
      }
    </form>

    <div [attr.aria-busy]="results.loading()">
      <app-load-status [of]="results" loading="Loading vendors…" />
      @if (results.value(); as page) {
        @if (page.vendors.length) {
          <p class="muted" role="status">
            {{ page.totalCount }} vendor{{ page.totalCount === 1 ? '' : 's'
            }}{{ activeQuery() ? ' matching "' + activeQuery() + '"' : '' }}
          </p>
          <div class="table-scroll">
            <table class="data" aria-label="Vendors">
              <thead>
                <tr>
                  <th scope="col">Code</th>
                  <th scope="col">Name</th>
                  <th scope="col">Tax id</th>
                  <th scope="col">Country</th>
                  <th scope="col">Currency</th>
                  <th scope="col">Aliases</th>
                  <th scope="col">Open exceptions</th>
                </tr>
              </thead>
              <tbody>
                @for (vendor of page.vendors; track vendor.id) {
                  <tr>
                    <td>
                      <a [routerLink]="[vendor.vendorCode]">{{ vendor.vendorCode }}</a>
                    </td>
                    <td>{{ vendor.name }}</td>
                    <td>{{ vendor.taxId || '—' }}</td>
                    <td>{{ vendor.country || '—' }}</td>
                    <td>{{ vendor.currency || '—' }}</td>
                    <td class="number">{{ vendor.aliasCount }}</td>
                    <td class="number">{{ vendor.openExceptionCount }}</td>
                  </tr>
                }
              </tbody>
            </table>
          </div>
          <app-pager
            label="Vendor pages"
            [pageNumber]="pages.pageNumber"
            [hasPrevious]="pages.hasPrevious"
            [hasNext]="page.nextPageToken !== ''"
            (previous)="previous()"
            (next)="next()"
          />
        } @else if (activeQuery() !== '') {
          <p>No vendor matches "{{ activeQuery() }}". Try part of the name, the code or a tax id.</p>
        } @else {
          <p>No vendors yet. Vendors arrive with the vendor master file on the Imports page.</p>
        }
      }
    </div>
  `,
})
export class Vendors implements OnInit {
  private readonly vendors = injectClient(VendorService);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);

  protected readonly query = signal(this.route.snapshot.queryParamMap.get('q') ?? '');
  protected readonly activeQuery = signal(this.query());
  protected readonly pages = new PageTokens();
  protected readonly results = new Loadable(() =>
    this.vendors.listVendors({ query: this.activeQuery(), pageSize, pageToken: this.pages.current }),
  );

  ngOnInit(): void {
    void this.results.load();
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected search(event: Event): void {
    event.preventDefault();
    this.activeQuery.set(this.query().trim());
    this.pages.reset();
    // The search is in the address, so it survives a reload and the back button.
    void this.router.navigate([], { queryParams: { q: this.activeQuery() || null }, replaceUrl: true });
    void this.results.load();
  }

  protected clear(): void {
    this.query.set('');
    this.search(new Event('submit'));
  }

  protected next(): void {
    const token = this.results.value()?.nextPageToken;
    if (token) {
      this.pages.next(token);
      void this.results.load();
    }
  }

  protected previous(): void {
    this.pages.back();
    void this.results.load();
  }
}
