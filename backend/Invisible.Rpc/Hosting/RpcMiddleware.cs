using Invisible.Rpc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Invisible.Rpc.Hosting;

/// <summary>
/// Takes every request with a gRPC content type (and CORS preflights of gRPC-Web paths); everything else, such as
/// the SPA's static files, passes through. Protocol errors found before the handler runs are answered trailers-only.
/// </summary>
internal sealed class RpcMiddleware(RequestDelegate next, RpcServiceRegistry registry, RpcPipeline pipeline, IOptions<RpcOptions> options, ILogger<RpcMiddleware> logger)
{
    /// <summary>Longer deadlines are treated as none: timers cannot wait that long, and no client means it.</summary>
    private static readonly TimeSpan LongestDeadline = TimeSpan.FromDays(30);

    private readonly RpcOptions _options = options.Value;
    private readonly RpcCors _cors = new(options.Value.CorsAllowedOrigins.ToArray());

    public Task InvokeAsync(HttpContext http)
    {
        if (RpcCors.IsPreflight(http.Request) && IsRpcPath(http.Request.Path))
        {
            _cors.AnswerPreflight(http);
            return Task.CompletedTask;
        }

        return GrpcWire.LooksLikeGrpc(http.Request.ContentType) ? HandleCallAsync(http) : next(http);
    }

    private async Task HandleCallAsync(HttpContext http)
    {
        var protocol = GrpcWire.ProtocolOf(http.Request.ContentType!);
        var requestEncoding = http.Request.Headers[GrpcWire.EncodingHeader].ToString() is { Length: > 0 } encoding ? encoding : null;
        using var call = new RpcHttpCall(http, protocol ?? RpcProtocol.Grpc, _options, _cors) { RequestEncoding = requestEncoding };
        if (Reject(http, protocol, requestEncoding, out var binding) is { } rejection)
        {
            logger.LogDebug("gRPC request {Path} refused before dispatch: {StatusCode} {Reason}", http.Request.Path.Value, rejection.StatusCode, rejection.Message);
            await call.CompleteAsync(rejection.StatusCode, rejection.Message, null);
            return;
        }

        var timeout = TimeSpan.Zero;
        var timeoutHeader = http.Request.Headers[GrpcWire.TimeoutHeader].ToString();
        if (timeoutHeader.Length > 0 && !GrpcWire.TryParseTimeout(timeoutHeader, out timeout))
        {
            await call.CompleteAsync(StatusCode.Internal, $"Malformed grpc-timeout '{timeoutHeader}'.", null);
            return;
        }

        if (!TryReadMetadata(http.Request.Headers, out var metadata, out var badKey))
        {
            await call.CompleteAsync(StatusCode.Internal, $"Metadata '{badKey}' is not valid base64.", null);
            return;
        }

        // A linked source only when there is a deadline: most calls have none, and it costs an allocation per call.
        DateTimeOffset? deadline = timeoutHeader.Length > 0 && timeout < LongestDeadline ? DateTimeOffset.UtcNow + timeout : null;
        using var deadlineCancellation = deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadlineCancellation?.CancelAfter(timeout);

        var context = new RpcCallContext(
            binding!.Descriptor,
            protocol!.Value,
            metadata,
            deadline,
            http.Connection,
            RequestIdOf(http.Request.Headers),
            http.User,
            http.RequestServices,
            _options.CompressResponses,
            deadlineCancellation?.Token ?? http.RequestAborted)
        {
            ClientGone = http.RequestAborted,
        };
        // Key and value are known to be valid: the id is checked or generated above.
        context.ResponseHeaders.AddWithoutValidation(new RpcMetadataEntry(GrpcWire.RequestIdHeader, context.RequestId, null));
        context.Call = call;
        call.Attach(context);

        CallStatus? status;
        if (deadline is null)
        {
            status = await RunPipelineAsync(binding, call, context);
        }
        else
        {
            call.GuardAgainstDeadline();
            var outcome = RunPipelineAsync(binding, call, context).AsTask();
            await ExpireAtDeadlineAsync(call, outcome, timeout);
            status = await outcome;
        }

        if (status is null)
        {
            return;
        }

        try
        {
            await call.CompleteAsync(status.Code, status.Message, status.Details);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException)
        {
            logger.LogDebug(exception, "gRPC {RpcMethod}: the client went away before the status (request {RequestId})", binding.Descriptor.FullName, context.RequestId);
        }
    }

    /// <summary>The call's final status, or null when the client went away and there is no one to tell.</summary>
    private async ValueTask<CallStatus?> RunPipelineAsync(Binding.RpcMethodBinding binding, RpcHttpCall call, RpcCallContext context)
    {
        try
        {
            await pipeline.RunAsync(binding, context);
            return CallStatus.Ok;
        }
        catch (RpcException exception)
        {
            return new CallStatus(exception.StatusCode, exception.Message, exception.ToStatusDetails());
        }
        catch (Exception exception) when (call.Http.RequestAborted.IsCancellationRequested)
        {
            logger.LogDebug(exception, "gRPC {RpcMethod} abandoned: the client went away (request {RequestId})", binding.Descriptor.FullName, context.RequestId);
            return null;
        }
    }

    /// <summary>Ends the call with DEADLINE_EXCEEDED at the deadline if the handler has not finished by then, cooperative or not.</summary>
    private static async Task ExpireAtDeadlineAsync(RpcHttpCall call, Task handler, TimeSpan timeout)
    {
        using var handlerFinished = new CancellationTokenSource();
        var deadline = Task.Delay(timeout, handlerFinished.Token);
        if (await Task.WhenAny(handler, deadline) == deadline)
        {
            await call.ExpireAsync();
        }

        await handlerFinished.CancelAsync();
    }

    private sealed record CallStatus(StatusCode Code, string Message, Google.Rpc.Status? Details)
    {
        public static readonly CallStatus Ok = new(StatusCode.OK, string.Empty, null);
    }

    /// <summary>Checks what can be refused from the headers alone, in the order the spec implies.</summary>
    private RpcException? Reject(HttpContext http, RpcProtocol? protocol, string? requestEncoding, out Binding.RpcMethodBinding? binding)
    {
        binding = null;
        if (protocol is null)
        {
            return new RpcException(StatusCode.Unimplemented, $"Content type '{http.Request.ContentType}' is not supported; use application/grpc(+proto), application/grpc-web(+proto) or application/grpc-web-text(+proto).");
        }

        if (!HttpMethods.IsPost(http.Request.Method))
        {
            return new RpcException(StatusCode.Unimplemented, $"gRPC calls use POST, not {http.Request.Method}.");
        }

        if (protocol == RpcProtocol.Grpc && !HttpProtocol.IsHttp2(http.Request.Protocol))
        {
            return new RpcException(StatusCode.Internal, $"Native gRPC needs HTTP/2 (got {http.Request.Protocol}); use the gRPC port, or gRPC-Web on this one.");
        }

        var path = http.Request.Path.Value ?? string.Empty;
        if (!registry.TryGetMethod(path, out var found))
        {
            var service = path.TrimStart('/').Split('/')[0];
            return registry.ServiceNames.Contains(service)
                ? new RpcException(StatusCode.Unimplemented, $"Method '{path}' is not implemented by service {service}.")
                : new RpcException(StatusCode.Unimplemented, $"Service '{service}' is not implemented.");
        }

        if (requestEncoding is not null && requestEncoding != GrpcWire.Identity && requestEncoding != GrpcWire.Gzip)
        {
            return new RpcException(StatusCode.Unimplemented, $"grpc-encoding '{requestEncoding}' is not supported; supported: {GrpcWire.SupportedEncodings}.");
        }

        binding = found;
        return null;
    }

    private static bool TryReadMetadata(IHeaderDictionary headers, out RpcMetadata metadata, out string? badKey)
    {
        metadata = new RpcMetadata();
        badKey = null;
        foreach (var (key, values) in headers)
        {
            var lowerKey = key.ToLowerInvariant();
            if (RpcMetadata.IsReservedKey(lowerKey))
            {
                continue;
            }

            foreach (var value in values)
            {
                if (!RpcMetadata.IsBinaryKey(lowerKey))
                {
                    metadata.AddWithoutValidation(new RpcMetadataEntry(lowerKey, value, null));
                    continue;
                }

                // Intermediaries may join repeated binary values with commas; each part is its own value.
                foreach (var part in (value ?? string.Empty).Split(','))
                {
                    if (!GrpcWire.TryFromBase64(part, out var bytes))
                    {
                        badKey = lowerKey;
                        return false;
                    }

                    metadata.AddWithoutValidation(new RpcMetadataEntry(lowerKey, null, bytes));
                }
            }
        }

        return true;
    }

    private static string RequestIdOf(IHeaderDictionary headers) =>
        headers[GrpcWire.RequestIdHeader].ToString() is var id && RequestIds.IsAcceptable(id) ? id : RequestIds.Next();

    /// <summary>"/package.Service/Method": the shape of a gRPC path, whether or not we serve it.</summary>
    private static bool IsRpcPath(PathString path) =>
        path.Value is { } value && value.Count(c => c == '/') == 2 && value.IndexOf('.', StringComparison.Ordinal) is > 0;
}
