using Invisible.Platform.Events;

namespace Invisible.Server.QuickBooks;

/// <summary>QuickBooks refused an invoice's export for good (a Fault that retrying will not cure): the admins are told.</summary>
[IntegrationEvent("quickbooks.export-failed")]
public sealed record QuickBooksExportFailed(Guid Id, Guid TenantId, DateTimeOffset OccurredAt, Guid InvoiceId, string Reason, string? FaultCode)
    : IntegrationEvent(Id, TenantId, OccurredAt);
