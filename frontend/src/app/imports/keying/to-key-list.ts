import { ChangeDetectionStrategy, Component, type OnInit } from '@angular/core';
import { RouterLink } from '@angular/router';

import { KeyingService, type ListToKeyItemsResponse } from '../../../gen/invisible/keying/v1/keying_pb';
import { injectClient } from '../../rpc/transport';
import { formatTimestamp } from '../../shared/dates';
import { Loadable } from '../../shared/load-state';
import { LoadStatus } from '../../shared/load-status';
import { PageTokens } from '../../shared/page-tokens';
import { Pager } from '../../shared/pager';

/** Imports → To key: PDFs that arrived by e-mail without invoice data, oldest first, each opening the keying screen. */
@Component({
  selector: 'app-to-key-list',
  imports: [LoadStatus, Pager, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrls: ['../../shared/forms.css'],
  templateUrl: './to-key-list.html',
})
export class ToKeyList implements OnInit {
  private readonly keying = injectClient(KeyingService);

  protected readonly pages = new PageTokens();
  protected readonly items = new Loadable<ListToKeyItemsResponse>(() =>
    this.keying.listToKeyItems({ pageSize: 50, pageToken: this.pages.current }),
  );
  protected readonly received = formatTimestamp;

  ngOnInit(): void {
    void this.items.load();
  }

  protected next(token: string): void {
    this.pages.next(token);
    void this.items.load();
  }

  protected previous(): void {
    this.pages.back();
    void this.items.load();
  }
}
