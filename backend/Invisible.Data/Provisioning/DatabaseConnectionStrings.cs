namespace Invisible.Data.Provisioning;

/// <summary>
/// The two ways into one Invisible database: the owner (owns the schema, runs migrations) and the application role
/// (owns nothing, no BYPASSRLS; everything at run time uses it).
/// </summary>
public sealed record DatabaseConnectionStrings(string OwnerConnectionString, string AppConnectionString);
