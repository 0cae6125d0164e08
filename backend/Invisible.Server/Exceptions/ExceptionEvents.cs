using Invisible.Data.Tenancy;
using Invisible.Platform.Events;

namespace Invisible.Server.Exceptions;

/// <summary>
/// The exception queue changed: items opened, assigned, resolved or dismissed, by a reviewer or by re-matching. Web apps
/// reload the queue (and the invoices named) instead of polling.
/// </summary>
/// <param name="Cause">What changed it: <c>reconcile</c>, <c>rematch_after_import</c>, <c>tolerance_changed</c>, or the reviewer's action (<c>assign</c>, <c>approve</c>, ...).</param>
/// <param name="InvoiceIds">The invoices whose decision or queue entry changed (empty after a full reconcile run: reload everything).</param>
[IntegrationEvent("exceptions.changed")]
public sealed record ExceptionsChanged(Guid Id, Guid TenantId, DateTimeOffset OccurredAt, string Cause, IReadOnlyList<Guid> InvoiceIds)
    : IntegrationEvent(Id, TenantId, OccurredAt);

/// <summary>The dashboard's counters are stale: statuses, the queue or today's imports changed. Read <c>GetDashboard</c> again.</summary>
[IntegrationEvent("dashboard.changed")]
public sealed record DashboardChanged(Guid Id, Guid TenantId, DateTimeOffset OccurredAt, string Cause) : IntegrationEvent(Id, TenantId, OccurredAt);

/// <summary>An exception was assigned to a person (by someone else): notifications tell the assignee.</summary>
/// <param name="AssignedBy">The audit name of who assigned it.</param>
[IntegrationEvent("exceptions.assigned")]
public sealed record ExceptionAssigned(Guid Id, Guid TenantId, DateTimeOffset OccurredAt, Guid ExceptionId, Guid AssigneeId, Guid AssignedById, string AssignedBy)
    : IntegrationEvent(Id, TenantId, OccurredAt);

/// <summary>
/// An exception got an approval and its rule still needs more: notifications tell those whose approval would count now
/// (computed when delivered, under the policy and delegations of that moment).
/// </summary>
[IntegrationEvent("approvals.waiting")]
public sealed record ApprovalWaiting(Guid Id, Guid TenantId, DateTimeOffset OccurredAt, Guid ExceptionId, Guid ApprovedById)
    : IntegrationEvent(Id, TenantId, OccurredAt);

public static class ExceptionNotifications
{
    /// <summary>Publishes <see cref="ExceptionsChanged"/> and <see cref="DashboardChanged"/> through the outbox, in the caller's transaction.</summary>
    public static async Task EnqueueAsync(
        TenantUnitOfWork unitOfWork, TimeProvider time, string cause, IReadOnlyList<Guid> invoiceIds, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await EventOutbox.EnqueueAsync(unitOfWork, new ExceptionsChanged(Guid.NewGuid(), unitOfWork.TenantId, now, cause, invoiceIds), cancellationToken);
        await EventOutbox.EnqueueAsync(unitOfWork, new DashboardChanged(Guid.NewGuid(), unitOfWork.TenantId, now, cause), cancellationToken);
    }
}
