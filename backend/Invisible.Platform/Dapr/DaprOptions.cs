using System.ComponentModel.DataAnnotations;

namespace Invisible.Platform.Dapr;

/// <summary>
/// The <c>Dapr</c> configuration section. The sidecar's own environment variables win over it: <c>DAPR_HTTP_PORT</c>,
/// <c>DAPR_GRPC_PORT</c>, <c>DAPR_API_TOKEN</c> (sent to the sidecar) and <c>APP_API_TOKEN</c> (expected from it).
/// </summary>
public sealed class DaprOptions
{
    public const string SectionName = "Dapr";

    [Required]
    public string SidecarHost { get; set; } = "127.0.0.1";

    /// <summary>The sidecar's HTTP API: only its health endpoint is used (the SDK probes readiness over HTTP).</summary>
    [Range(1, 65535)]
    public int HttpPort { get; set; } = 3500;

    /// <summary>The sidecar's gRPC API, which <see cref="global::Dapr.Client.DaprClient"/> uses for every building block.</summary>
    [Range(1, 65535)]
    public int GrpcPort { get; set; } = 50001;

    /// <summary>Sent as <c>dapr-api-token</c> on every call to the sidecar. Required in dapr mode (<see cref="DaprTokenValidation"/>).</summary>
    public string? ApiToken { get; set; }

    /// <summary>Calls from the sidecar to this app must carry it as <c>dapr-api-token</c>. Required in dapr mode.</summary>
    public string? AppApiToken { get; set; }

    /// <summary>How long start-up waits for the sidecar's <c>/v1.0/healthz/outbound</c> before giving up.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan SidecarStartupTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The request metadata key that names the object in the <c>blobstore</c> binding: <c>fileName</c> for
    /// bindings.localstorage, <c>key</c> for bindings.aws.s3, <c>blobName</c> for bindings.azure.blobstorage.
    /// </summary>
    [Required]
    public string BlobNameMetadataKey { get; set; } = "fileName";

    /// <summary>The <c>rootPath</c> of a bindings.localstorage <c>blobstore</c> component, as the sidecar sees it; needed to list blobs.</summary>
    public string? BlobStoreRootPath { get; set; }

    public Uri SidecarHttpAddress => new($"http://{SidecarHost}:{HttpPort}/");

    public Uri SidecarGrpcAddress => new($"http://{SidecarHost}:{GrpcPort}/");
}
