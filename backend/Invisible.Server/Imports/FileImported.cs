using Invisible.Platform.Events;

namespace Invisible.Server.Imports;

/// <summary>
/// A file's rows were stored (published once per stored file, never for a duplicate or a rejected file). Consumers such
/// as matching read the rows of <see cref="ImportId"/>; <see cref="ImportNo"/> orders files by arrival.
/// </summary>
/// <param name="Kind">"vendors", "purchase_orders", "receipts" or "invoices".</param>
[IntegrationEvent("file-imported")]
public sealed record FileImported(
    Guid Id,
    Guid TenantId,
    DateTimeOffset OccurredAt,
    Guid ImportId,
    long ImportNo,
    string Kind,
    int RowCount,
    int StoredCount) : IntegrationEvent(Id, TenantId, OccurredAt);
