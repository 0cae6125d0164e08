namespace Invisible.Identity;

/// <summary>The roles of a tenant's users and API keys (the database checks the same four names).</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Approver = "approver";
    public const string Clerk = "clerk";

    /// <summary>Read-only: sees everything a clerk sees, changes nothing.</summary>
    public const string Auditor = "auditor";

    public static IReadOnlyList<string> All { get; } = [Admin, Approver, Clerk, Auditor];

    public static bool IsKnown(string? role) => role is not null && All.Contains(role, StringComparer.Ordinal);
}
