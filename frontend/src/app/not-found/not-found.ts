import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink } from '@angular/router';

@Component({
  selector: 'app-not-found',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Page not found</h1>
    <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>
    <p><a routerLink="/dashboard">Go to the dashboard</a></p>
  `,
})
export class NotFound {}
