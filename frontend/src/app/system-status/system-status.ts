import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { computed, inject, Injectable, InjectionToken } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { catchError, exhaustMap, map, type Observable, of, timeout, TimeoutError, timer } from 'rxjs';

export type Readiness = 'checking' | 'ready' | 'unready';

export interface StatusDetail {
  readonly name: string;
  readonly value: string;
}

export interface SystemStatusReport {
  readonly readiness: Readiness;
  /** What the server reported besides its overall status, e.g. one entry per dependency check. */
  readonly details: readonly StatusDetail[];
  readonly checkedAt?: Date;
}

export const readinessUrl = '/readyz';

export const STATUS_POLL_INTERVAL_MS = new InjectionToken<number>('StatusPollIntervalMs', {
  providedIn: 'root',
  factory: () => 15_000,
});

/** A check that has not answered by then counts as unreachable, so the header never goes stale. */
const checkTimeoutMs = 5_000;

/** The server's readiness (`GET /readyz`), checked now and then every poll interval. */
@Injectable({ providedIn: 'root' })
export class SystemStatus {
  private readonly http = inject(HttpClient);

  readonly report = toSignal<SystemStatusReport, SystemStatusReport>(
    timer(0, inject(STATUS_POLL_INTERVAL_MS)).pipe(exhaustMap(() => this.check())),
    { initialValue: { readiness: 'checking', details: [] } },
  );

  readonly readiness = computed(() => this.report().readiness);

  private check(): Observable<SystemStatusReport> {
    return this.http.get<unknown>(readinessUrl).pipe(
      timeout(checkTimeoutMs),
      map((body) => reportFrom(body)),
      // An unready server answers 503 with the same JSON body.
      catchError((failure: unknown) =>
        of(reportFrom(failure instanceof HttpErrorResponse ? failure.error : undefined, failure)),
      ),
    );
  }
}

function reportFrom(body: unknown, failure?: unknown): SystemStatusReport {
  const checkedAt = new Date();
  if (!isReadinessBody(body)) {
    return {
      readiness: 'unready',
      details: [{ name: 'server', value: describeFailure(failure) }],
      checkedAt,
    };
  }
  const { status, checks, ...rest } = body;
  return {
    readiness: status === 'ready' ? 'ready' : 'unready',
    details: [...describeChecks(checks), ...describeFields('', rest)],
    checkedAt,
  };
}

function isReadinessBody(body: unknown): body is { status: string } & Record<string, unknown> {
  return isObject(body) && typeof body['status'] === 'string';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeFailure(failure: unknown): string {
  if (failure instanceof TimeoutError) {
    return `did not answer within ${checkTimeoutMs / 1000} seconds`;
  }
  if (failure instanceof HttpErrorResponse && failure.status !== 0) {
    return `answered HTTP ${failure.status} without a readiness report`;
  }
  return 'not reachable';
}

/**
 * `"checks": {"database": {"status": "ready", "problem": null, ...}}` reads as "database: ready";
 * a check that is not ready also lists what it reported, e.g. "database problem: …".
 */
function describeChecks(checks: unknown): StatusDetail[] {
  if (!isObject(checks)) {
    return [];
  }
  return Object.entries(checks).flatMap(([name, check]) => {
    if (!isObject(check)) {
      return describeFields('', { [name]: check });
    }
    const { status, ...findings } = check;
    const summary = { name, value: String(status ?? 'unknown') };
    return status === 'ready' ? [summary] : [summary, ...describeFields(`${name} `, findings)];
  });
}

/** One line per field that says something: empty values are left out. */
function describeFields(prefix: string, fields: Record<string, unknown>): StatusDetail[] {
  return Object.entries(fields).flatMap(([field, value]) => {
    const name = prefix + field.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
    if (isObject(value)) {
      return describeFields(`${name} `, value);
    }
    const text = Array.isArray(value) ? value.join(', ') : value === null ? '' : String(value);
    return text === '' ? [] : [{ name, value: text }];
  });
}
