using System.Security.Claims;
using Google.Protobuf;
using Invisible.Rpc.Interception;
using Invisible.Rpc.Tests.Probe;

namespace Invisible.Rpc.Tests.Support;

public sealed class ProbeHandler(ProbeRecorder recorder)
{
    public Task<EchoReply> Echo(EchoRequest request, RpcCallContext context)
    {
        foreach (var entry in context.RequestHeaders.Where(e => e.Key.StartsWith("x-echo", StringComparison.Ordinal)))
        {
            if (entry.ValueBytes is { } bytes)
            {
                context.ResponseHeaders.Add(entry.Key, bytes);
                context.ResponseTrailers.Add(entry.Key.Replace("x-echo", "x-trailer", StringComparison.Ordinal), bytes);
            }
            else
            {
                context.ResponseHeaders.Add(entry.Key, entry.Value!);
            }
        }

        context.CompressResponses = request.Text.Contains("compress", StringComparison.Ordinal);
        return Task.FromResult(new EchoReply
        {
            Text = request.Text,
            Padding = ByteString.CopyFrom(new byte[request.ReplyPadding]),
            User = context.User.Identity?.Name ?? string.Empty,
            Peer = context.Peer,
            RequestCompressed = context.RequestCompressed,
        });
    }

    public async Task Count(CountRequest request, IServerStreamWriter<CountReply> stream, RpcCallContext context)
    {
        for (var number = 1; number <= request.Count; number++)
        {
            if (number > 1)
            {
                await Task.Delay(request.IntervalMs, context.CancellationToken);
            }

            await stream.WriteAsync(new CountReply { Number = number }, context.CancellationToken);
        }
    }

    public Task<EchoReply> Fail(FailRequest request, RpcCallContext context) => request.Kind switch
    {
        "unexpected" => throw new InvalidOperationException("connection string Password=hunter2 leaked"),
        "domain" => throw new ProbeDomainException("INVOICE_ALREADY_MATCHED", request.Message),
        "validation" => throw new ProbeValidationException(("lines[2].quantity", "must be positive")),
        _ => throw new RpcException((StatusCode)int.Parse(request.Kind), request.Message),
    };

    public async Task<CountReply> Stall(CountRequest request, RpcCallContext context)
    {
        await Task.Delay(request.IntervalMs, CancellationToken.None);
        return new CountReply { Number = request.Count };
    }

    public async Task<EchoReply> Hang(EchoRequest request, RpcCallContext context)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return new EchoReply();
        }
        finally
        {
            recorder.HandlerCancelled(request.Text);
        }
    }
}

/// <summary>What handlers saw, for tests that cannot observe it on the wire.</summary>
public sealed class ProbeRecorder
{
    private readonly Dictionary<string, TaskCompletionSource> _cancellations = [];

    public Task CancellationOf(string callName)
    {
        lock (_cancellations)
        {
            return Completion(callName).Task;
        }
    }

    public void HandlerCancelled(string callName)
    {
        lock (_cancellations)
        {
            Completion(callName).TrySetResult();
        }
    }

    private TaskCompletionSource Completion(string callName) =>
        _cancellations.TryGetValue(callName, out var completion)
            ? completion
            : _cancellations[callName] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
}

public sealed class ProbeDomainException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}

public sealed class ProbeValidationException(params (string Field, string Problem)[] problems) : Exception("validation failed")
{
    public IReadOnlyList<(string Field, string Problem)> Problems { get; } = problems;
}

/// <summary>How an application maps its own exceptions: the one place the tests register.</summary>
public sealed class ProbeExceptionMapper : IRpcExceptionMapper
{
    public RpcException? TryMap(Exception exception) => exception switch
    {
        ProbeDomainException domain => RpcException.WithReason(StatusCode.FailedPrecondition, domain.Message, domain.Reason, "probe.invisible.test", new Dictionary<string, string> { ["invoice"] = "INV-7" }),
        ProbeValidationException validation => RpcException.InvalidArgument("The request is invalid.", validation.Problems.Select(p => new FieldViolation(p.Field, p.Problem))),
        _ => null,
    };
}

/// <summary>"authorization: Bearer {name}" is user {name}; "Bearer invalid" is refused; no header is anonymous.</summary>
public sealed class ProbeAuthenticator : IRpcAuthenticator
{
    public ValueTask<ClaimsPrincipal?> AuthenticateAsync(RpcCallContext context, CancellationToken cancellationToken)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        if (header is null)
        {
            return ValueTask.FromResult<ClaimsPrincipal?>(null);
        }

        var name = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : "invalid";
        if (name == "invalid")
        {
            throw new RpcException(StatusCode.Unauthenticated, "The bearer token is not valid.");
        }

        return ValueTask.FromResult<ClaimsPrincipal?>(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], "Bearer")));
    }
}
