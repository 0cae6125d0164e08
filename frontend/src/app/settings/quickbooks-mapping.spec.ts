import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';

import {
  ChoiceSchema,
  CompanyListsSchema,
  ConnectionSchema,
  QuickBooksService,
  type SetVendorMappingRequest,
  VendorMappingSchema,
} from '../../gen/invisible/quickbooks/v1/quickbooks_pb';
import { AuthServerStandIn, provideSessionAgainst } from '../session/auth-server.testing';
import { SessionService } from '../session/session';
import { renderUntil } from '../shared/settle.testing';
import { QuickBooksMappingSettings } from './quickbooks-mapping';

/** In-test stand-in of our QuickBooksService: a company with an account, an item, two vendors and a tax code; one vendor of ours. */
class QuickBooksServer {
  mapped: SetVendorMappingRequest[] = [];

  routes = (router: ConnectRouter): void => {
    router.service(QuickBooksService, {
      getCompanyLists: () =>
        create(CompanyListsSchema, {
          expenseAccounts: [create(ChoiceSchema, { id: '1', name: 'Office Expenses' })],
          items: [create(ChoiceSchema, { id: '9', name: 'Paper stock' })],
          vendors: [
            create(ChoiceSchema, { id: '5', name: 'Acme (paper)', currency: 'GBP' }),
            create(ChoiceSchema, { id: '6', name: 'Acme EU', currency: 'EUR' }),
          ],
          taxCodes: [create(ChoiceSchema, { id: '3', name: '20.0% S' })],
        }),
      listVendorMappings: () => ({
        mappings: [
          create(VendorMappingSchema, {
            vendorId: 'v-1',
            vendorCode: 'V1',
            vendorName: 'Acme Supplies Ltd',
            currency: 'GBP',
            qboVendorName: this.mapped.length ? 'Acme (paper)' : '',
          }),
        ],
      }),
      setVendorMapping: (request) => {
        this.mapped.push(request);
        return create(VendorMappingSchema, {
          vendorId: request.vendorId,
          qboVendorId: request.qboVendorId,
          qboVendorName: 'Acme (paper)',
        });
      },
    });
  };
}

describe('QuickBooks mapping', () => {
  it('maps a vendor to a QuickBooks vendor and item chosen from the company lists', async () => {
    const backend = new QuickBooksServer();
    const auth = new AuthServerStandIn();
    auth.tenantRequiresMfa = false;
    auth.role = 'admin';
    TestBed.configureTestingModule({
      providers: [provideRouter([]), ...provideSessionAgainst(auth, undefined, backend.routes)],
    });
    await TestBed.inject(SessionService).signIn('admin@demo.test', 'correct horse');
    const fixture = TestBed.createComponent(QuickBooksMappingSettings);
    fixture.componentRef.setInput(
      'connection',
      create(ConnectionSchema, { status: 'connected', defaultExpenseAccountId: '1' }),
    );
    const page = await renderUntil(
      fixture,
      (shown) => shown.querySelector('select[aria-label="QuickBooks vendor of V1"]') !== null,
    );
    expect(page.textContent).toContain('Tax code on every line');

    const pick = (label: string, value: string) => {
      const select = page.querySelector<HTMLSelectElement>(`select[aria-label="${label}"]`)!;
      select.value = value;
      select.dispatchEvent(new Event('change'));
    };
    pick('QuickBooks vendor of V1', '5');
    pick('Item of V1', '9');
    Array.from(page.querySelectorAll('button'))
      .find((button) => button.textContent?.trim() === 'Save')!
      .click();
    await renderUntil(fixture, (shown) => shown.textContent!.includes('now goes to Acme (paper)'));

    expect(backend.mapped.map((m) => [m.vendorId, m.qboVendorId, m.expenseAccountId, m.itemId])).toEqual([
      ['v-1', '5', '', '9'],
    ]);
  });
});
