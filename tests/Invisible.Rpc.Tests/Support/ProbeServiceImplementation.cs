using Google.Protobuf;
using Grpc.Core;
using Invisible.Rpc.Tests.Probe;
using Invisible.Server.Errors;

namespace Invisible.Rpc.Tests.Support;

/// <summary>What the probe service saw, for tests that assert on the server side of a call.</summary>
public sealed class ProbeRecorder
{
    private TaskCompletionSource _hangCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a Hang call's CancellationToken fires (deadline or client cancellation).</summary>
    public Task HangCancelled => _hangCancelled.Task;

    public void ResetHang() => _hangCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal void CancelledHang() => _hangCancelled.TrySetResult();
}

/// <summary>The probe: echoes, counts, fails on request and hangs, as a product service would, through the product's interceptor.</summary>
public sealed class ProbeServiceImplementation(ProbeRecorder recorder) : Probe.ProbeService.ProbeServiceBase
{
    public const string SecretInExceptionText = "password=hunter2 at db.internal:5432";

    public override Task<EchoReply> Echo(EchoRequest request, ServerCallContext context) => Task.FromResult(new EchoReply
    {
        Text = request.Text,
        Padding = ByteString.CopyFrom(new byte[request.ReplyPadding]),
        // ServerCallContext.RequestHeaders leaves grpc-* headers out, hence the HTTP request.
        RequestEncoding = context.GetHttpContext().Request.Headers["grpc-encoding"].ToString(),
    });

    public override async Task Count(CountRequest request, IServerStreamWriter<CountReply> responseStream, ServerCallContext context)
    {
        for (var number = 1; number <= request.Count; number++)
        {
            if (request.IntervalMs > 0)
            {
                await Task.Delay(request.IntervalMs, context.CancellationToken);
            }

            await responseStream.WriteAsync(new CountReply { Number = number }, context.CancellationToken);
        }
    }

    public override Task<EchoReply> Fail(FailRequest request, ServerCallContext context) => request.Kind switch
    {
        "domain" => throw DomainException.WithReason(
            ErrorKind.FailedPrecondition, "Invoice INV-1 is already matched.", "INVOICE_ALREADY_MATCHED", "matching.invisible.app",
            new Dictionary<string, string> { ["invoice_id"] = "INV-1" }),
        "validation" => throw DomainException.InvalidArgument(
            "The invoice is invalid.",
            new FieldViolation("lines[2].quantity", "must be positive", "MUST_BE_POSITIVE"),
            new FieldViolation("vendor_id", "is required")),
        // A bug: its text must reach the log, never the client.
        _ => throw new InvalidOperationException($"Could not connect: {SecretInExceptionText}"),
    };

    public override async Task<EchoReply> Hang(EchoRequest request, ServerCallContext context)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }
        finally
        {
            recorder.CancelledHang();
        }

        return new EchoReply();
    }
}
