import { ChangeDetectionStrategy, Component, type OnInit, inject, signal } from '@angular/core';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';

import { ApprovalService, type Delegation } from '../../gen/invisible/exceptions/v1/approvals_pb';
import { injectClient } from '../rpc/transport';
import { CurrentUser } from '../shared/current-user';
import { Loadable } from '../shared/load-state';
import { LoadStatus } from '../shared/load-status';
import { RpcAction } from '../shared/rpc-action';

/** Delegation of one's approvals to another approver or admin for a period (holidays); each one audited. */
@Component({
  selector: 'app-delegations',
  imports: [LoadStatus],
  changeDetection: ChangeDetectionStrategy.OnPush,
  styleUrl: '../shared/forms.css',
  template: `
    <section class="card" aria-labelledby="delegations-heading" [attr.aria-busy]="delegations.loading()">
      <h2 id="delegations-heading">Delegations</h2>
      <p class="hint">
        While you are away, someone you choose gives your approvals; each counts as yours and names them.
      </p>
      <app-load-status [of]="delegations" loading="Loading delegations…" />
      @if (delegations.value(); as current) {
        <ul data-testid="delegation-list">
          @for (delegation of current.delegations; track delegation.id) {
            <li>
              {{ delegation.delegatorName }} → {{ delegation.delegateName }},
              {{ day(delegation.startsAt) }} to
              {{ day(delegation.endsAt) }}
              @if (delegation.revoked) {
                (revoked)
              } @else if (delegation.active) {
                (active)
              }
              @if (!delegation.revoked) {
                <button type="button" (click)="revoke(delegation)" [disabled]="acting.busy()">Revoke</button>
              }
            </li>
          } @empty {
            <li>No delegations.</li>
          }
        </ul>
        <form (submit)="create($event, form)" #form>
          <div class="row">
            <div class="field">
              <label for="delegate">Delegate my approvals to</label>
              <select id="delegate" name="delegate" required>
                @for (candidate of current.candidates; track candidate.userId) {
                  <option [value]="candidate.userId">{{ candidate.name }} ({{ candidate.role }})</option>
                }
              </select>
            </div>
            <div class="field">
              <label for="delegation-from">From</label>
              <input id="delegation-from" name="from" type="date" [value]="today" required />
            </div>
            <div class="field">
              <label for="delegation-until">Until (exclusive)</label>
              <input id="delegation-until" name="until" type="date" required />
            </div>
          </div>
          <div class="field">
            <label for="delegation-reason">Reason</label>
            <input id="delegation-reason" name="reason" maxlength="500" />
          </div>
          <button class="button primary" type="submit" [disabled]="acting.busy()">Delegate</button>
        </form>
      }
      <p role="status" [class.notice]="notice() !== ''">{{ notice() }}</p>
      @if (acting.error(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
    </section>
  `,
})
export class Delegations implements OnInit {
  private readonly approvals = injectClient(ApprovalService);
  protected readonly user = inject(CurrentUser);
  protected readonly delegations = new Loadable(() => this.approvals.listDelegations({}));
  protected readonly acting = new RpcAction();
  protected readonly notice = signal('');
  protected readonly today = new Date().toISOString().slice(0, 10);

  ngOnInit(): void {
    void this.delegations.load();
  }

  protected day(value: Delegation['startsAt']): string {
    return value ? timestampDate(value).toISOString().slice(0, 10) : '';
  }

  protected async create(event: Event, form: HTMLFormElement): Promise<void> {
    event.preventDefault();
    const data = new FormData(form);
    const from = String(data.get('from') ?? '');
    const until = String(data.get('until') ?? '');
    if (until === '') {
      this.acting.fail('Say until when the delegation lasts.');
      return;
    }
    await this.acting.run(async () => {
      const created = await this.approvals.createDelegation({
        delegateId: String(data.get('delegate') ?? ''),
        startsAt:
          from === '' || from === this.today ? undefined : timestampFromDate(new Date(`${from}T00:00:00Z`)),
        endsAt: timestampFromDate(new Date(`${until}T00:00:00Z`)),
        reason: String(data.get('reason') ?? '').trim(),
      });
      this.notice.set(`${created.delegateName} gives your approvals until ${this.day(created.endsAt)}.`);
      await this.delegations.load();
    });
  }

  protected async revoke(delegation: Delegation): Promise<void> {
    await this.acting.run(async () => {
      await this.approvals.revokeDelegation({ delegationId: delegation.id });
      this.notice.set(`The delegation to ${delegation.delegateName} is revoked.`);
      await this.delegations.load();
    });
  }
}
