import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { readinessUrl, STATUS_POLL_INTERVAL_MS, SystemStatus } from './system-status';

const pollIntervalMs = 10_000;

describe('SystemStatus', () => {
  let server: HttpTestingController;
  let status: SystemStatus;

  beforeEach(() => {
    vi.useFakeTimers();
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: STATUS_POLL_INTERVAL_MS, useValue: pollIntervalMs },
      ],
    });
    server = TestBed.inject(HttpTestingController);
    status = TestBed.inject(SystemStatus);
    vi.advanceTimersByTime(0);
  });

  afterEach(() => {
    server.verify();
    vi.useRealTimers();
  });

  it('is checking until the server answers', () => {
    expect(status.readiness()).toBe('checking');
    expect(status.report().checkedAt).toBeUndefined();
    server.expectOne(readinessUrl);
  });

  it('is ready with the checks the server reported', () => {
    server.expectOne(readinessUrl).flush({
      status: 'ready',
      checks: { database: { status: 'ready', reachable: true, pendingMigrations: [], problem: null } },
      version: '1.4.0',
    });

    expect(status.readiness()).toBe('ready');
    expect(status.report().details).toEqual([
      { name: 'database', value: 'ready' },
      { name: 'version', value: '1.4.0' },
    ]);
    expect(status.report().checkedAt).toBeInstanceOf(Date);
  });

  it('is unready with what the failing check reported in the body of a 503 answer', () => {
    server.expectOne(readinessUrl).flush(
      {
        status: 'unready',
        checks: {
          database: {
            status: 'unready',
            reachable: true,
            pendingMigrations: ['0002_vendors.sql', '0003_audit.sql'],
            problem: null,
          },
        },
      },
      { status: 503, statusText: 'Service Unavailable' },
    );

    expect(status.readiness()).toBe('unready');
    expect(status.report().details).toEqual([
      { name: 'database', value: 'unready' },
      { name: 'database reachable', value: 'true' },
      { name: 'database pending migrations', value: '0002_vendors.sql, 0003_audit.sql' },
    ]);
  });

  it('is unready when the server cannot be reached', () => {
    server.expectOne(readinessUrl).error(new ProgressEvent('error'));

    expect(status.readiness()).toBe('unready');
    expect(status.report().details).toEqual([{ name: 'server', value: 'not reachable' }]);
  });

  it('is unready when the server answers without a readiness report', () => {
    server.expectOne(readinessUrl).flush('Bad gateway', { status: 502, statusText: 'Bad Gateway' });

    expect(status.readiness()).toBe('unready');
    expect(status.report().details).toEqual([
      { name: 'server', value: 'answered HTTP 502 without a readiness report' },
    ]);
  });

  it('is unready when the check does not answer in time', () => {
    const check = server.expectOne(readinessUrl);

    vi.advanceTimersByTime(5_000);

    expect(check.cancelled).toBe(true);
    expect(status.readiness()).toBe('unready');
    expect(status.report().details).toEqual([{ name: 'server', value: 'did not answer within 5 seconds' }]);
  });

  it('checks again every poll interval and follows the change', () => {
    server
      .expectOne(readinessUrl)
      .flush({ status: 'unready' }, { status: 503, statusText: 'Service Unavailable' });
    expect(status.readiness()).toBe('unready');

    vi.advanceTimersByTime(pollIntervalMs);
    server.expectOne(readinessUrl).flush({ status: 'ready' });

    expect(status.readiness()).toBe('ready');
  });
});
