using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Invisible.Server.Matching;

/// <summary>
/// Time-ordered ids for the rows of one run (RFC 9562 UUID version 7 with a counter, "method 2"): the creation time in
/// milliseconds, then a random start that rises by one with every id. Ids of a run therefore sort in the order they were
/// taken, so inserting the run appends at the right edge of every index that leads with the id instead of touching
/// random pages all over it, as random (version 4) ids do.
/// </summary>
internal sealed class SequentialUuid
{
    private readonly ulong _timeAndVersion;
    private ulong _counter;

    public SequentialUuid()
        : this(DateTimeOffset.UtcNow)
    {
    }

    public SequentialUuid(DateTimeOffset now)
    {
        Span<byte> random = stackalloc byte[10];
        RandomNumberGenerator.Fill(random);
        var milliseconds = (ulong)now.ToUnixTimeMilliseconds() & 0xFFFF_FFFF_FFFF;
        // 48 bits of time, the version (7), then 12 random bits (rand_a), fixed for this generator.
        _timeAndVersion = (milliseconds << 16) | 0x7000 | (BinaryPrimitives.ReadUInt16BigEndian(random) & 0x0FFFUL);
        // rand_b: 62 bits after the variant; a random start below 2^61 leaves room for 2^61 increments.
        _counter = BinaryPrimitives.ReadUInt64BigEndian(random[2..]) & 0x1FFF_FFFF_FFFF_FFFF;
    }

    public Guid Next()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, _timeAndVersion);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], 0x8000_0000_0000_0000UL | _counter++);
        return new Guid(bytes, bigEndian: true);
    }
}
