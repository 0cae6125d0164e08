import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';

import { StatusIndicator } from './status-indicator';
import { readinessUrl } from './system-status';

describe('StatusIndicator', () => {
  let server: HttpTestingController;
  let fixture: ComponentFixture<StatusIndicator>;

  beforeEach(() => {
    vi.useFakeTimers();
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting()] });
    server = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(StatusIndicator);
    vi.advanceTimersByTime(0);
    fixture.detectChanges();
  });

  afterEach(() => vi.useRealTimers());

  const summary = () =>
    (fixture.nativeElement as HTMLElement).querySelector('summary')?.textContent?.replace(/\s+/g, ' ').trim();
  const details = () =>
    Array.from((fixture.nativeElement as HTMLElement).querySelectorAll('.detail')).map((row) => [
      row.querySelector('dt')?.textContent,
      row.querySelector('dd')?.textContent,
    ]);

  it('says it is checking before the first answer', () => {
    expect(summary()).toBe('System status: Checking…');
    expect(fixture.nativeElement.textContent).toContain('Waiting for the first answer from the server.');
  });

  it('shows Ready and the reported checks', () => {
    server.expectOne(readinessUrl).flush({ status: 'ready', checks: { database: { status: 'ready' } } });
    fixture.detectChanges();

    expect(summary()).toBe('System status: Ready');
    expect(details()).toEqual([['database', 'ready']]);
    expect(fixture.nativeElement.textContent).toMatch(/Last checked at \d{1,2}:\d{2}:\d{2}/);
  });

  it('shows Not ready and why', () => {
    server
      .expectOne(readinessUrl)
      .flush(
        { status: 'unready', checks: { database: { status: 'unready', problem: 'connection refused' } } },
        { status: 503, statusText: 'Service Unavailable' },
      );
    fixture.detectChanges();

    expect(summary()).toBe('System status: Not ready');
    expect(details()).toEqual([
      ['database', 'unready'],
      ['database problem', 'connection refused'],
    ]);
  });

  it('opens its details from the summary', () => {
    const disclosure = (fixture.nativeElement as HTMLElement).querySelector('details');
    expect(disclosure?.open).toBe(false);

    (fixture.nativeElement as HTMLElement).querySelector('summary')?.click();

    expect(disclosure?.open).toBe(true);
  });
});
