import { computed, Injectable, signal } from '@angular/core';

import { AuthService, type SessionInfo } from '../../gen/invisible/auth/v1/auth_pb';
import { injectClient } from '../rpc/transport';

/**
 * Who is signed in, as the server sees it (AuthService.GetSession): the user id for "assign to me" and the role for
 * role-aware screens. The server enforces every permission; the UI only hides what the role cannot do.
 */
@Injectable({ providedIn: 'root' })
export class CurrentUser {
  private readonly auth = injectClient(AuthService);
  private readonly info = signal<SessionInfo | undefined>(undefined);
  private loading: Promise<SessionInfo | undefined> | undefined;

  readonly session = this.info.asReadonly();
  readonly userId = computed(() => this.info()?.userId ?? '');
  readonly role = computed(() => this.info()?.role ?? '');
  /** Approving an exception overrides the engine: approvers and admins only (exceptions.proto). */
  readonly canApprove = computed(() => ['approver', 'admin'].includes(this.role()));
  /** Auditors read; clerks, approvers and admins act on the queue. */
  readonly canAct = computed(() => ['clerk', 'approver', 'admin'].includes(this.role()));
  /** Uploads and reconcile runs: clerks and admins (ImportService, MatchingService.Reconcile). */
  readonly canImport = computed(() => ['clerk', 'admin'].includes(this.role()));

  /**
   * Asks the server who is signed in (each page does when it opens, so a different user signing in on the same tab is
   * seen); concurrent calls share one request. The last answer stays on screen meanwhile; a failure keeps it.
   */
  load(): Promise<SessionInfo | undefined> {
    this.loading ??= this.auth
      .getSession({})
      .then(
        (info) => {
          this.info.set(info);
          return info;
        },
        () => this.info(),
      )
      .finally(() => (this.loading = undefined));
    return this.loading;
  }
}
