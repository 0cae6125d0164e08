import { type ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';

import {
  type ListVendorsRequest,
  VendorSchema,
  VendorService,
} from '../../gen/invisible/vendors/v1/vendors_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { VendorDetailPage } from './vendor-detail';
import { Vendors } from './vendors';

const master = Array.from({ length: 120 }, (_, index) =>
  create(VendorSchema, {
    id: `v${index}`,
    vendorCode: `V${String(index).padStart(3, '0')}`,
    name: index === 7 ? 'Acme Industrial Supplies' : `Vendor ${index}`,
    currency: 'EUR',
    aliasCount: index % 3,
  }),
);

/** An in-test stand-in of our VendorService: search over code and name, pages of `pageSize` with offset tokens. */
function vendorService(requests: ListVendorsRequest[]) {
  return (router: ConnectRouter) =>
    router.service(VendorService, {
      listVendors: (request) => {
        requests.push(request);
        const matching = master.filter(
          (vendor) =>
            request.query === '' ||
            `${vendor.vendorCode} ${vendor.name}`.toLowerCase().includes(request.query.toLowerCase()),
        );
        const offset = Number(request.pageToken || '0');
        const end = offset + request.pageSize;
        return {
          vendors: matching.slice(offset, end),
          nextPageToken: end < matching.length ? String(end) : '',
          totalCount: matching.length,
        };
      },
      getVendor: (request) => {
        const vendor = master.find((candidate) => candidate.vendorCode === request.vendorCode);
        if (vendor === undefined) {
          throw new ConnectError(`No vendor ${request.vendorCode}.`, Code.NotFound);
        }
        return {
          vendor,
          aliases: [
            { kind: 'name', value: 'ACME Ind. Supplies', source: 'import' },
            { kind: 'tax_id', value: 'DE123456789', source: 'master' },
          ],
          paymentTerms: 'Net 30',
        };
      },
    });
}

describe('vendors', () => {
  let requests: ListVendorsRequest[];

  async function setUp(routeCode?: string): Promise<ComponentFixture<unknown>> {
    requests = [];
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    TestBed.configureTestingModule({
      providers: [
        provideRouter([{ path: 'vendors/:code', component: VendorDetailPage }]),
        ...provideSessionAgainst(auth, undefined, vendorService(requests)),
      ],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    if (routeCode !== undefined) {
      const harness = await RouterTestingHarness.create();
      await harness.navigateByUrl(`/vendors/${routeCode}`);
      return harness.fixture;
    }
    return TestBed.createComponent(Vendors);
  }

  const rowsShown = (page: HTMLElement) => page.querySelector('table[aria-label="Vendors"]') !== null;

  function button(page: HTMLElement, text: string): HTMLButtonElement {
    return Array.from(page.querySelectorAll('button')).find(
      (candidate) => candidate.textContent?.trim() === text,
    )!;
  }

  it('lists the first page with the total, and pages forward and back with the server’s tokens', async () => {
    const fixture = await setUp();
    const page = await renderUntil(fixture, rowsShown);

    expect(page.textContent).toContain('120 vendors');
    expect(page.querySelectorAll('tbody tr')).toHaveLength(50);
    expect(button(page, 'Previous page').disabled).toBe(true);

    button(page, 'Next page').click();
    await renderUntil(fixture, (shown) => shown.querySelector('tbody tr td a')?.textContent === 'V050');
    expect(page.textContent).toContain('Page 2');

    button(page, 'Next page').click();
    await renderUntil(fixture, (shown) => shown.querySelectorAll('tbody tr').length === 20);
    expect(button(page, 'Next page').disabled).toBe(true);

    button(page, 'Previous page').click();
    await renderUntil(fixture, (shown) => shown.querySelector('tbody tr td a')?.textContent === 'V050');
    expect(requests.map((request) => request.pageToken)).toEqual(['', '50', '100', '50']);
  });

  it('searches from the first page and says so when nothing matches', async () => {
    const fixture = await setUp();
    const page = await renderUntil(fixture, rowsShown);
    const input = page.querySelector<HTMLInputElement>('#vendor-query')!;

    input.value = 'acme';
    input.dispatchEvent(new Event('input'));
    page.querySelector('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, (shown) => shown.querySelectorAll('tbody tr').length === 1);
    expect(page.querySelector('tbody')?.textContent).toContain('Acme Industrial Supplies');
    expect(requests.at(-1)).toMatchObject({ query: 'acme', pageToken: '' });

    input.value = 'zzz';
    input.dispatchEvent(new Event('input'));
    page.querySelector('form')!.dispatchEvent(new Event('submit'));
    await renderUntil(fixture, (shown) => shown.textContent!.includes('No vendor matches "zzz"'));
  });

  it('shows a vendor with its aliases, and the server’s message for an unknown code', async () => {
    const fixture = await setUp('V007');
    const page = await renderUntil(
      fixture,
      (shown) => shown.querySelector('table[aria-label="Aliases"]') !== null,
    );

    expect(page.querySelector('h1')?.textContent).toBe('Acme Industrial Supplies');
    const aliases = page.querySelector('table[aria-label="Aliases"] tbody')!.textContent!;
    expect(aliases).toContain('ACME Ind. Supplies');
    expect(aliases).toContain('Seen on an import');
    expect(aliases).toContain('Tax id');
    expect(page.textContent).toContain('Net 30');

    const missing = await setUpAgain('NOPE');
    await renderUntil(
      missing,
      (shown) => shown.querySelector('[role="alert"]')?.textContent === 'No vendor NOPE.',
    );
  });

  async function setUpAgain(code: string): Promise<ComponentFixture<unknown>> {
    TestBed.resetTestingModule();
    return setUp(code);
  }
});
