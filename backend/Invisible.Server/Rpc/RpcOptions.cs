using System.ComponentModel.DataAnnotations;

namespace Invisible.Server.Rpc;

/// <summary>Limits and policies of the gRPC services; configuration section "Rpc".</summary>
public sealed class RpcOptions
{
    public const string SectionName = "Rpc";

    /// <summary>Larger request messages (after decompression) end the call with RESOURCE_EXHAUSTED.</summary>
    [Range(1, int.MaxValue - 5)]
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Larger response messages end the call with RESOURCE_EXHAUSTED instead of being sent.</summary>
    [Range(1, int.MaxValue - 5)]
    public int MaxSendMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Browser origins allowed to call gRPC-Web and REST (exact match, e.g. "https://app.example.com").</summary>
    public IList<string> CorsAllowedOrigins { get; } = new List<string>();

    /// <summary>Whether responses are gzip-compressed for clients that accept gzip.</summary>
    public bool CompressResponses { get; set; }

    /// <summary>grpc.health.v1 and /readyz report the health checks carrying this tag (readiness).</summary>
    public const string ReadinessTag = "ready";

    /// <summary>
    /// How often the background readiness probe asks the database (<c>DatabaseReadinessProbe</c>); <c>/readyz</c> and
    /// <c>grpc.health.v1.Health</c> answer from its last result, so a probe flood never reaches the database.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00")]
    public TimeSpan ReadinessProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often <c>Health.Watch</c> sees readiness re-evaluated (the health check publisher's period: at least a second).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan HealthWatchInterval { get; set; } = TimeSpan.FromSeconds(5);
}
