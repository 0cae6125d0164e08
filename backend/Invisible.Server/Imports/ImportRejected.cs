using Invisible.Platform.Events;

namespace Invisible.Server.Imports;

/// <summary>
/// A file was rejected: nothing of it was stored, its errors and error CSV wait in the import history. Notifications tell
/// its uploader (a person's upload) or the tenant's admins (an e-mail intake, the command line, an API key).
/// </summary>
/// <param name="Source">"upload", "api", "email", "cli" or "keyed".</param>
/// <param name="Actor">Who imported: a user's id as text for an upload, else the import's actor name.</param>
[IntegrationEvent("imports.rejected")]
public sealed record ImportRejected(
    Guid Id,
    Guid TenantId,
    DateTimeOffset OccurredAt,
    Guid ImportId,
    string Kind,
    string FileName,
    string Source,
    string Actor,
    long ErrorCount,
    string FirstError) : IntegrationEvent(Id, TenantId, OccurredAt);
