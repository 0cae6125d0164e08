using Dapr;
using Grpc.Core;

namespace Invisible.Platform.Dapr;

/// <summary>What the sidecar said when a <see cref="DaprException"/> wraps its gRPC status.</summary>
internal static class DaprErrors
{
    public static StatusCode? Status(DaprException e) => (e.InnerException as RpcException)?.StatusCode;

    /// <summary>The sidecar's message (e.g. "error invoking output binding blobstore: file not found …").</summary>
    public static string Detail(DaprException e) => (e.InnerException as RpcException)?.Status.Detail ?? e.Message;

    public static bool DetailContains(DaprException e, params string[] texts) =>
        texts.Any(text => Detail(e).Contains(text, StringComparison.OrdinalIgnoreCase));
}
