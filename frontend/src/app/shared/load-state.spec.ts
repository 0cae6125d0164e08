import { ChangeDetectionStrategy, Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';

import { Loadable, LoadableList } from './load-state';
import { LoadStatus } from './load-status';
import { renderUntil } from './settle.testing';

/** A fetch whose answers the test gives one at a time. */
function controlledFetch<T>() {
  const calls: { resolve: (value: T) => void; reject: (failure: unknown) => void }[] = [];
  const fetch = () => new Promise<T>((resolve, reject) => calls.push({ resolve, reject }));
  return { fetch, calls };
}

describe('Loadable', () => {
  it('is loading until the answer arrives, then holds it', async () => {
    const { fetch, calls } = controlledFetch<string[]>();
    const data = new Loadable(fetch);

    const loaded = data.load();
    expect(data.loading()).toBe(true);
    expect(data.value()).toBeUndefined();
    calls[0].resolve(['a', 'b']);
    await loaded;

    expect(data.state()).toEqual({ kind: 'loaded', value: ['a', 'b'] });
    expect(data.loading()).toBe(false);
    expect(data.value()).toEqual(['a', 'b']);
    expect(data.failure()).toBe('');
  });

  it('holds the failure’s message, and loads again on request', async () => {
    const { fetch, calls } = controlledFetch<string>();
    const data = new Loadable(fetch);

    const first = data.load();
    calls[0].reject(new Error('The database is not reachable.'));
    await first;
    expect(data.failure()).toBe('The database is not reachable.');
    expect(data.value()).toBeUndefined();

    const second = data.load();
    expect(data.loading()).toBe(true);
    calls[1].resolve('policy');
    await second;
    expect(data.value()).toBe('policy');
  });

  it('shows what a change answered without fetching', async () => {
    const { fetch, calls } = controlledFetch<{ id: string; revoked: boolean }[]>();
    const data = new LoadableList(fetch);
    data.replace({ id: 'k2', revoked: true });
    expect(data.loading()).toBe(true);

    const loaded = data.load();
    calls[0].resolve([
      { id: 'k1', revoked: false },
      { id: 'k2', revoked: false },
    ]);
    await loaded;
    data.replace({ id: 'k2', revoked: true });

    expect(data.value()).toEqual([
      { id: 'k1', revoked: false },
      { id: 'k2', revoked: true },
    ]);
    data.set([]);
    expect(data.value()).toEqual([]);
    expect(calls).toHaveLength(1);
  });
});

@Component({
  selector: 'app-load-status-host',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<app-load-status [of]="keys" loading="Loading API keys…" />`,
})
class Host {
  readonly answer = signal<'fail' | 'succeed'>('fail');
  fetches = 0;
  readonly keys = new Loadable(async () => {
    this.fetches++;
    if (this.answer() === 'fail') {
      throw new Error('The database is not reachable.');
    }
    return ['k1'];
  });
}

describe('LoadStatus', () => {
  it('says it is loading, as a status; then the failure, as an alert, with Try again; then nothing', async () => {
    const fixture = TestBed.createComponent(Host);
    const host = fixture.componentInstance;
    const page = fixture.nativeElement as HTMLElement;
    fixture.detectChanges();
    expect(page.querySelector('[role="status"]')?.textContent).toBe('Loading API keys…');

    await host.keys.load();
    await renderUntil(fixture, (shown) => shown.querySelector('[role="alert"]') !== null);
    expect(page.querySelector('[role="alert"]')?.textContent).toBe('The database is not reachable.');
    expect(page.querySelector('[role="status"]')).toBeNull();

    host.answer.set('succeed');
    page.querySelector<HTMLButtonElement>('button')!.click();
    await renderUntil(fixture, (shown) => shown.querySelector('app-load-status')?.textContent === '');

    expect(host.fetches).toBe(2);
    expect(host.keys.value()).toEqual(['k1']);
  });
});
