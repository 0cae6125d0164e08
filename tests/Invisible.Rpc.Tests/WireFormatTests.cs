using System.Buffers;
using Invisible.Rpc.Protocol;

namespace Invisible.Rpc.Tests;

/// <summary>The pure encodings of the gRPC spec.</summary>
public sealed class WireFormatTests
{
    [Theory]
    [InlineData("1H", 3600_000)]
    [InlineData("2M", 120_000)]
    [InlineData("3S", 3_000)]
    [InlineData("250m", 250)]
    [InlineData("1500u", 1.5)]
    [InlineData("2500000n", 2.5)]
    public void Grpc_timeout_units_convert_to_durations(string header, double expectedMilliseconds)
    {
        Assert.True(GrpcWire.TryParseTimeout(header, out var timeout));
        Assert.Equal(expectedMilliseconds, timeout.TotalMilliseconds, precision: 4);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("10s")]
    [InlineData("-5S")]
    [InlineData("123456789S")]
    [InlineData("1.5S")]
    public void Malformed_grpc_timeout_is_rejected(string header)
    {
        Assert.False(GrpcWire.TryParseTimeout(header, out _));
    }

    [Fact]
    public void Plain_ASCII_status_messages_are_sent_unchanged()
    {
        Assert.Equal("Invoice not found", GrpcWire.PercentEncode("Invoice not found"));
    }

    [Fact]
    public void Percent_and_non_printable_bytes_are_percent_encoded_as_UTF_8()
    {
        Assert.Equal("100%25%0Aok %C3%A9", GrpcWire.PercentEncode("100%\nok é"));
    }

    [Fact]
    public void Base64_metadata_is_accepted_padded_and_unpadded()
    {
        Assert.True(GrpcWire.TryFromBase64("q6ur", out var unpadded));
        Assert.True(GrpcWire.TryFromBase64("qw==", out var padded));
        Assert.True(GrpcWire.TryFromBase64("qw", out var shortUnpadded));

        Assert.Equal([0xab, 0xab, 0xab], unpadded);
        Assert.Equal([0xab], padded);
        Assert.Equal([0xab], shortUnpadded);
        Assert.False(GrpcWire.TryFromBase64("q!ur", out _));
    }

    [Fact]
    public void Single_message_frame_yields_its_payload()
    {
        var payload = MessageFrames.ReadSingleMessage(new ReadOnlySequence<byte>([0, 0, 0, 0, 2, 0x08, 0x01]), null, 100, out var compressed);

        Assert.Equal([0x08, 0x01], payload.ToArray());
        Assert.False(compressed);
    }

    [Fact]
    public void Frame_flag_other_than_compressed_is_INTERNAL()
    {
        var error = Assert.Throws<RpcException>(() => MessageFrames.ReadSingleMessage(new ReadOnlySequence<byte>([0x02, 0, 0, 0, 0]), null, 100, out _));

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public void Oversized_length_is_refused_from_the_header_before_the_payload_arrives()
    {
        var error = MessageFrames.CheckPartialRequest(new ReadOnlySequence<byte>([0, 0xff, 0xff, 0xff, 0xff]), 100);

        Assert.Equal(StatusCode.ResourceExhausted, error?.StatusCode);
    }

    [Fact]
    public void Text_mode_decodes_concatenated_padded_base64_runs()
    {
        Assert.Equal([0, 0, 0, 0, 2, 8, 1], GrpcWebText.Decode(new ReadOnlySequence<byte>("AAAAAA==AggB"u8.ToArray())));
    }
}
