using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Invisible.Rpc.Protocol;

/// <summary>
/// Length-prefixed message framing: one flag byte (bit 0 = compressed; 0x80 = gRPC-Web trailers), a 4-byte
/// big-endian length, then the payload.
/// </summary>
internal static class MessageFrames
{
    public const int HeaderLength = 5;
    public const byte CompressedFlag = 0x01;
    public const byte TrailersFlag = 0x80;

    /// <summary>
    /// Checks what has arrived of a unary request so far, so oversized and surplus messages are refused without
    /// waiting for the rest of the body.
    /// </summary>
    public static RpcException? CheckPartialRequest(ReadOnlySequence<byte> received, int maxReceiveMessageSize)
    {
        if (received.Length < HeaderLength)
        {
            return null;
        }

        var length = ReadLength(received);
        if (length > maxReceiveMessageSize)
        {
            return TooLarge(length, maxReceiveMessageSize);
        }

        return received.Length > HeaderLength + length
            ? new RpcException(StatusCode.Internal, "A unary or server-streaming call needs exactly one request message; received more than one.")
            : null;
    }

    /// <summary>Extracts the single request message from a complete request body; every protocol violation is a status.</summary>
    public static ReadOnlySequence<byte> ReadSingleMessage(ReadOnlySequence<byte> body, string? requestEncoding, int maxReceiveMessageSize, out bool compressed)
    {
        compressed = false;
        if (body.Length == 0)
        {
            throw new RpcException(StatusCode.Internal, "A unary or server-streaming call needs exactly one request message; received none.");
        }

        if (body.Length < HeaderLength)
        {
            throw new RpcException(StatusCode.Internal, $"Truncated message frame: {body.Length} bytes where the 5-byte frame header was expected.");
        }

        var flag = body.FirstSpan[0];
        compressed = flag == CompressedFlag;
        var length = ReadLength(body);
        if (length > maxReceiveMessageSize)
        {
            throw TooLarge(length, maxReceiveMessageSize);
        }

        if (body.Length < HeaderLength + length)
        {
            throw new RpcException(StatusCode.Internal, $"Truncated message frame: header announces {length} bytes, body holds {body.Length - HeaderLength}.");
        }

        if (body.Length > HeaderLength + length)
        {
            throw new RpcException(StatusCode.Internal, "A unary or server-streaming call needs exactly one request message; received more than one.");
        }

        var payload = body.Slice(HeaderLength, length);
        return flag switch
        {
            0 => payload,
            CompressedFlag when string.Equals(requestEncoding, GrpcWire.Gzip, StringComparison.OrdinalIgnoreCase) => Decompress(payload, maxReceiveMessageSize),
            CompressedFlag => throw new RpcException(StatusCode.Internal, $"The message is flagged compressed but grpc-encoding is '{requestEncoding ?? GrpcWire.Identity}'."),
            _ => throw new RpcException(StatusCode.Internal, $"Invalid message frame flag 0x{flag:X2}."),
        };
    }

    /// <summary>Writes one frame's header before a payload of <paramref name="length"/> bytes.</summary>
    public static void WriteHeader(Span<byte> destination, byte flag, int length)
    {
        destination[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }

    public static byte[] Compress(ReadOnlySpan<byte> payload)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(payload);
        }

        return output.ToArray();
    }

    /// <summary>Decompresses with a hard size cap, so a small compressed bomb cannot exhaust memory.</summary>
    private static ReadOnlySequence<byte> Decompress(ReadOnlySequence<byte> payload, int maxReceiveMessageSize)
    {
        try
        {
            using var gzip = new GZipStream(new MemoryStream(payload.ToArray()), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = gzip.Read(buffer)) > 0)
            {
                if (output.Length + read > maxReceiveMessageSize)
                {
                    throw TooLarge(output.Length + read, maxReceiveMessageSize);
                }

                output.Write(buffer, 0, read);
            }

            return new ReadOnlySequence<byte>(output.ToArray());
        }
        catch (InvalidDataException exception)
        {
            throw new RpcException(StatusCode.Internal, $"The gzip-compressed message could not be decompressed: {exception.Message}");
        }
    }

    private static long ReadLength(ReadOnlySequence<byte> frame)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        frame.Slice(0, HeaderLength).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
    }

    private static RpcException TooLarge(long length, int max) =>
        new(StatusCode.ResourceExhausted, $"Received message of {length} bytes exceeds the maximum of {max} bytes.");
}
