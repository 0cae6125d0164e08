using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Invisible.Ingestion.Validation;

/// <summary>
/// Remembers the natural keys of a file with the line each was first seen on, to report duplicates. Text parts of a
/// key are kept as a <see cref="Fingerprint"/>, so a key costs the same few bytes however long its text is.
/// </summary>
public sealed class NaturalKeySet<TKey> where TKey : IEquatable<TKey>
{
    private readonly Dictionary<TKey, int> _firstLineByKey = [];

    /// <summary>Adds the key; returns the line it was first seen on when it is a duplicate, else null.</summary>
    public int? AddOrGetFirstLine(TKey key, int line)
    {
        if (_firstLineByKey.TryGetValue(key, out var firstLine))
        {
            return firstLine;
        }

        _firstLineByKey.Add(key, line);
        return null;
    }
}

public static class NaturalKey
{
    /// <summary>
    /// 128 bits of the SHA-256 of the parts, each prefixed by its length so that ("ab","c") ≠ ("a","bc"). An accidental
    /// collision among a file's keys is far less likely than a disk error, and a crafted one only rejects its own file.
    /// </summary>
    public static UInt128 Fingerprint(params ReadOnlySpan<string> parts)
    {
        var size = 0;
        foreach (var part in parts)
        {
            size += sizeof(int) + Encoding.UTF8.GetMaxByteCount(part.Length);
        }

        var rented = size <= 512 ? null : ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var buffer = rented ?? stackalloc byte[512];
            var length = 0;
            foreach (var part in parts)
            {
                var written = Encoding.UTF8.GetBytes(part, buffer[(length + sizeof(int))..]);
                BinaryPrimitives.WriteInt32LittleEndian(buffer[length..], written);
                length += sizeof(int) + written;
            }

            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..length], hash);
            return BinaryPrimitives.ReadUInt128LittleEndian(hash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
