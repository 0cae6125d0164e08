using Invisible.Platform.Events;

namespace Invisible.Server.Notifications;

/// <summary>What a person can be told about; the names are stored (notifications.kind) and shown in preferences.</summary>
public static class NotificationKinds
{
    public const string ExceptionAssigned = "exception_assigned";
    public const string ApprovalWaiting = "approval_waiting";
    public const string ImportRejected = "import_rejected";
    public const string QuickBooksExportFailed = "quickbooks_export_failed";

    /// <summary>The daily digest's own kind (a notification row, not a preference).</summary>
    public const string DailyDigest = "daily_digest";

    /// <summary>The kinds a person chooses for, in the order the settings page lists them, with when each is sent.</summary>
    public static IReadOnlyList<(string Kind, string Description)> Chosen { get; } =
    [
        (ExceptionAssigned, "An exception is assigned to you."),
        (ApprovalWaiting, "An exception has an approval and waits for yours (or for the person you stand in for)."),
        (ImportRejected, "A file you uploaded is rejected; admins: a rejected e-mail intake, command-line or API import."),
        (QuickBooksExportFailed, "QuickBooks refuses an invoice's export (admins)."),
    ];

    /// <summary>Kinds whose items wait for someone, so the daily digest can list them.</summary>
    public static IReadOnlySet<string> InDigest { get; } = new HashSet<string>(StringComparer.Ordinal) { ExceptionAssigned, ApprovalWaiting };

    public static bool IsChosen(string kind) => Chosen.Any(entry => entry.Kind == kind);
}

/// <summary>A person's choice for one kind; without a stored choice, everything is on.</summary>
public sealed record NotificationPreference(string Kind, bool Email, bool InApp, bool Digest)
{
    public static NotificationPreference Default(string kind) => new(kind, Email: true, InApp: true, Digest: true);
}

public static class NotificationChannels
{
    public const string Email = "email";
    public const string InApp = "in_app";
}

/// <summary>
/// An in-app notification was created for one person. The live stream (<c>EventService.Watch</c>) passes it only to that
/// person; the web app's bell shows it.
/// </summary>
[IntegrationEvent(Topic)]
public sealed record NotificationCreated(
    Guid Id, Guid TenantId, DateTimeOffset OccurredAt, Guid NotificationId, Guid UserId, string Kind, string Subject, string Link)
    : IntegrationEvent(Id, TenantId, OccurredAt)
{
    public const string Topic = "notifications.created";

    /// <summary>Whether a <see cref="Topic"/> event's payload is for <paramref name="userId"/> (false for a payload that names no one).</summary>
    public static bool IsFor(string payloadJson, Guid userId)
    {
        using var document = System.Text.Json.JsonDocument.Parse(payloadJson);
        return document.RootElement.TryGetProperty("userId", out var user) && user.TryGetGuid(out var id) && id == userId;
    }
}
