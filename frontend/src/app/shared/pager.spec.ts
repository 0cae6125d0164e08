import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';

import { Pager } from './pager';

@Component({
  imports: [Pager],
  template: `<app-pager
    label="Things pages"
    nextText="Older"
    [pageNumber]="page()"
    [hasPrevious]="page() > 1"
    [hasNext]="page() < 3"
    [busy]="busy()"
    (previous)="page.set(page() - 1)"
    (next)="page.set(page() + 1)"
  />`,
})
class Host {
  readonly page = signal(1);
  readonly busy = signal(false);
}

describe('Pager', () => {
  function render() {
    const fixture = TestBed.createComponent(Host);
    fixture.detectChanges();
    const element = fixture.nativeElement as HTMLElement;
    const buttons = () => Array.from(element.querySelectorAll('button'));
    return { fixture, element, buttons };
  }

  it('is a labelled navigation landmark that says which page is shown', () => {
    const { element } = render();

    const navigation = element.querySelector('app-pager')!;
    expect(navigation.getAttribute('role')).toBe('navigation');
    expect(navigation.getAttribute('aria-label')).toBe('Things pages');
    expect(navigation.textContent).toContain('Page 1');
  });

  it('asks for the next and previous page, and cannot go past either end', () => {
    const { fixture, element, buttons } = render();
    const [previous, next] = buttons();
    expect([previous.textContent, next.textContent]).toEqual(['Previous page', 'Older']);
    expect(previous.disabled).toBe(true);

    next.click();
    fixture.detectChanges();
    next.click();
    fixture.detectChanges();
    expect(element.textContent).toContain('Page 3');
    expect(next.disabled).toBe(true);

    previous.click();
    fixture.detectChanges();
    expect(element.textContent).toContain('Page 2');
    expect([previous.disabled, next.disabled]).toEqual([false, false]);
  });

  it('offers neither direction while a page is loading', () => {
    const { fixture, buttons } = render();
    fixture.componentInstance.page.set(2);
    fixture.componentInstance.busy.set(true);
    fixture.detectChanges();

    expect(buttons().map((button) => button.disabled)).toEqual([true, true]);
  });
});
