using System.Buffers;
using System.Buffers.Text;

namespace Invisible.Rpc.Protocol;

/// <summary>
/// gRPC-Web text mode: the body is base64. Senders may encode each chunk separately, so a body can be several
/// padded base64 runs back to back ("AAAA==AAAA"); each run is decoded on its own.
/// </summary>
internal static class GrpcWebText
{
    public static byte[] Decode(ReadOnlySequence<byte> base64)
    {
        var text = base64.ToArray();
        var output = new byte[(text.Length / 4 * 3) + 3];
        var written = 0;
        var runStart = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            var endOfRun = i == text.Length || (text[i] == (byte)'=' && (i + 1 == text.Length || text[i + 1] != (byte)'='));
            if (!endOfRun)
            {
                continue;
            }

            var runEnd = i == text.Length ? i : i + 1;
            var run = text.AsSpan(runStart, runEnd - runStart);
            if (run.Length > 0)
            {
                if (run.Length % 4 != 0
                    || Base64.DecodeFromUtf8(run, output.AsSpan(written), out _, out var decoded) != OperationStatus.Done)
                {
                    throw new RpcException(StatusCode.Internal, $"The gRPC-Web text body is not valid base64 (at offset {runStart}).");
                }

                written += decoded;
            }

            runStart = runEnd;
        }

        return output[..written];
    }

    public static byte[] Encode(ReadOnlySpan<byte> frame) => System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(frame));
}
