using System.Collections;

namespace Invisible.Rpc;

/// <summary>
/// gRPC custom metadata: lower-case ASCII keys; keys ending in <c>-bin</c> carry bytes (base64 on the wire),
/// all others printable ASCII text. Keys starting with <c>grpc-</c> are reserved for the protocol.
/// </summary>
public sealed class RpcMetadata : IEnumerable<RpcMetadataEntry>
{
    private const string BinarySuffix = "-bin";
    // Most calls carry no custom metadata: the list exists only once something is added.
    private List<RpcMetadataEntry>? _entries;

    public int Count => _entries?.Count ?? 0;

    public void Add(string key, string value)
    {
        var normalized = ValidateKey(key);
        if (IsBinaryKey(normalized))
        {
            throw new ArgumentException($"Metadata key '{key}' ends in -bin and needs a byte[] value.", nameof(key));
        }

        if (value.Any(c => c is < ' ' or > '~'))
        {
            throw new ArgumentException($"Metadata value of '{key}' must be printable ASCII; use a -bin key for other data.", nameof(value));
        }

        (_entries ??= []).Add(new RpcMetadataEntry(normalized, value, null));
    }

    public void Add(string key, byte[] value)
    {
        var normalized = ValidateKey(key);
        if (!IsBinaryKey(normalized))
        {
            throw new ArgumentException($"Metadata key '{key}' carries bytes, so it must end in -bin.", nameof(key));
        }

        (_entries ??= []).Add(new RpcMetadataEntry(normalized, null, value));
    }

    /// <summary>The last text value of <paramref name="key"/>, or null.</summary>
    public string? GetValue(string key) =>
        _entries?.LastOrDefault(e => !e.IsBinary && string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase))?.Value;

    /// <summary>The last binary value of <paramref name="key"/> (a -bin key), or null.</summary>
    public byte[]? GetBytes(string key) =>
        _entries?.LastOrDefault(e => e.IsBinary && string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase))?.ValueBytes;

    public IEnumerator<RpcMetadataEntry> GetEnumerator() => (_entries ?? (IEnumerable<RpcMetadataEntry>)[]).GetEnumerator();

    /// <summary>The entries without an enumerator allocation, for the protocol layer's hot path.</summary>
    internal ReadOnlySpan<RpcMetadataEntry> AsSpan() => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_entries);

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal static bool IsBinaryKey(string key) => key.EndsWith(BinarySuffix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Protocol headers that are never exposed as custom metadata.</summary>
    internal static bool IsReservedKey(string key) =>
        key.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
        || key.StartsWith(':')
        || key is "content-type" or "te" or "content-length" or "host" or "connection" or "transfer-encoding"
            or "accept-encoding" or "content-encoding";

    internal void AddWithoutValidation(RpcMetadataEntry entry) => (_entries ??= []).Add(entry);

    private static string ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var normalized = key.ToLowerInvariant();
        if (normalized.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.')))
        {
            throw new ArgumentException($"Metadata key '{key}' may contain only a-z, 0-9, '-', '_' and '.'.", nameof(key));
        }

        if (IsReservedKey(normalized))
        {
            throw new ArgumentException($"Metadata key '{key}' is reserved by the gRPC protocol.", nameof(key));
        }

        return normalized;
    }
}

/// <summary>One metadata entry: <see cref="Value"/> for text keys, <see cref="ValueBytes"/> for -bin keys.</summary>
public sealed record RpcMetadataEntry(string Key, string? Value, byte[]? ValueBytes)
{
    public bool IsBinary => ValueBytes is not null;
}
