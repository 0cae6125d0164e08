using System.ComponentModel.DataAnnotations;

namespace Invisible.Rpc.Hosting;

/// <summary>Limits and policies of the gRPC layer; bind from configuration section "Rpc".</summary>
public sealed class RpcOptions
{
    public const string SectionName = "Rpc";

    /// <summary>Larger request messages (after decompression) end the call with RESOURCE_EXHAUSTED.</summary>
    [Range(1, int.MaxValue - 5)]
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Larger response messages end the call with RESOURCE_EXHAUSTED instead of being sent.</summary>
    [Range(1, int.MaxValue - 5)]
    public int MaxSendMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Browser origins allowed to call gRPC-Web (exact match, e.g. "https://app.example.com").</summary>
    public IList<string> CorsAllowedOrigins { get; } = new List<string>();

    /// <summary>The default of <see cref="RpcCallContext.CompressResponses"/>.</summary>
    public bool CompressResponses { get; set; }

    /// <summary>grpc.health.v1 reports the health checks carrying this tag (readiness), SERVING unless one is unhealthy.</summary>
    public string ReadinessTag { get; set; } = DefaultReadinessTag;

    public const string DefaultReadinessTag = "ready";

    /// <summary>How often <c>Health.Watch</c> re-evaluates readiness.</summary>
    public TimeSpan HealthWatchInterval { get; set; } = TimeSpan.FromSeconds(5);
}
