using Invisible.Platform.Events;

namespace Invisible.Server.Matching;

/// <summary>
/// A reconcile run appended new decisions for the tenant's invoices. Consumers (dashboards, exports, notifications) read
/// the decisions of <see cref="RunId"/>; the counts spare them a query for a summary.
/// </summary>
/// <param name="InvoicesByStatus">Invoices decided in the run, by status name (<c>matched</c>, <c>exception</c>, ...).</param>
[IntegrationEvent("matching.reconciled")]
public sealed record InvoicesReconciled(
    Guid Id,
    Guid TenantId,
    DateTimeOffset OccurredAt,
    Guid RunId,
    int ToleranceVersion,
    IReadOnlyDictionary<string, int> InvoicesByStatus) : IntegrationEvent(Id, TenantId, OccurredAt);
