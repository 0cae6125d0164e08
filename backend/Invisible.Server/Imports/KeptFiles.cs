namespace Invisible.Server.Imports;

/// <summary>
/// Where imported files are kept in the blob store: <c>tenants/{tenant}/imports/files/{file id}/{offset}</c>, one blob a
/// chunk. The file id is a version 7 UUID, so the moment a file began to be kept can be read from its name: the
/// <see cref="KeptFileSweep"/> tells a copy left by an import that died before committing from one still being written.
/// </summary>
public static class KeptFiles
{
    /// <summary>The folder of every kept file of the tenant.</summary>
    public static string Root(Guid tenantId) => $"tenants/{tenantId:N}/imports/files/";

    /// <summary>A new file's folder (its own id rather than the import's: the file is kept before the import record exists).</summary>
    public static string NewPrefix(Guid tenantId, DateTimeOffset now) => $"{Root(tenantId)}{Guid.CreateVersion7(now):N}/";

    /// <summary>When the file in <paramref name="fileId"/> began to be kept; false for a name that does not carry it (files kept before version 7 ids).</summary>
    public static bool TryGetKeptAt(string fileId, out DateTimeOffset keptAt)
    {
        keptAt = default;
        if (!Guid.TryParseExact(fileId, "N", out var id) || id.Version != 7)
        {
            return false;
        }

        // The first 48 bits, in the RFC's byte order, are milliseconds since the Unix epoch.
        var bytes = id.ToByteArray(bigEndian: true);
        long milliseconds = 0;
        for (var i = 0; i < 6; i++)
        {
            milliseconds = (milliseconds << 8) | bytes[i];
        }

        keptAt = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
        return true;
    }
}
