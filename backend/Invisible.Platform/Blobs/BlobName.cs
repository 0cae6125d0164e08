namespace Invisible.Platform.Blobs;

/// <summary>
/// The one rule for blob names, shared by every adapter so a name valid in embedded mode is valid with Dapr too:
/// relative, <c>/</c>-separated, no empty, <c>.</c> or <c>..</c> segment, no backslash, colon or control character.
/// </summary>
public static class BlobName
{
    public const int MaxLength = 512;

    /// <exception cref="ArgumentException">The name could escape the store's root or is not portable.</exception>
    public static string Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxLength)
        {
            throw new ArgumentException($"Blob name must have 1 to {MaxLength} characters, got {name.Length}.", nameof(name));
        }

        foreach (var c in name)
        {
            if (char.IsControl(c) || c is '\\' or ':')
            {
                throw new ArgumentException($"Blob name '{name}' contains a forbidden character (U+{(int)c:X4}).", nameof(name));
            }
        }

        foreach (var segment in name.Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                throw new ArgumentException($"Blob name '{name}' has an empty, '.' or '..' segment; names are relative paths like 'tenants/x/file.csv'.", nameof(name));
            }
        }

        return name;
    }
}
