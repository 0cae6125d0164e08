using Grpc.AspNetCore.Server;
using Grpc.HealthCheck;
using Grpc.Net.Compression;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Rpc;

/// <summary>
/// The API's transport, all of it from Grpc.AspNetCore: native gRPC (the h2c port), gRPC-Web (binary and text, on the main
/// port, HTTP/1.1 and HTTP/2), REST/JSON from the protos' <c>google.api.http</c> rules, server reflection,
/// <c>grpc.health.v1.Health</c> over the readiness checks, CORS for the configured browser origins, message size limits and
/// gzip. One interceptor maps errors (<see cref="ErrorInterceptor"/>), requests that do not parse are INVALID_ARGUMENT
/// (<see cref="MalformedRequests"/>); services are mapped by the composition root.
/// </summary>
public static class GrpcHosting
{
    private const string CorsPolicy = "grpc-web";

    /// <summary>Headers a browser script must be able to read from a gRPC-Web response.</summary>
    private static readonly string[] ExposedHeaders =
        ["grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-encoding", "grpc-accept-encoding", RequestIds.Header];

    public static IServiceCollection AddGrpcTransport(this IServiceCollection services)
    {
        services.AddOptions<RpcOptions>().BindConfiguration(RpcOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        // Interceptors registered in the container are resolved from it; unregistered ones are created for every call.
        services.AddSingleton<ErrorInterceptor>();
        services.AddGrpc(options =>
        {
            options.Interceptors.Add<ErrorInterceptor>();
            options.EnableDetailedErrors = false;
            options.IgnoreUnknownServices = false;
        }).AddJsonTranscoding(transcoding => transcoding.TypeRegistry = ErrorResponses.DetailTypes);
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<RpcOptions>>((grpc, rpc) =>
        {
            grpc.MaxReceiveMessageSize = rpc.Value.MaxReceiveMessageSize;
            grpc.MaxSendMessageSize = rpc.Value.MaxSendMessageSize;
            grpc.ResponseCompressionAlgorithm = rpc.Value.CompressResponses ? "gzip" : null;
            grpc.ResponseCompressionLevel = System.IO.Compression.CompressionLevel.Fastest;
        });
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks(health =>
        {
            health.Services.Map(string.Empty, registration => registration.Tags.Contains(RpcOptions.ReadinessTag));
            // Check answers from the checks themselves, so a probe sees the database the moment it comes back.
            health.UseHealthChecksCache = false;
        });
        services.AddOptions<HealthCheckPublisherOptions>().Configure<IOptions<RpcOptions>>((publisher, rpc) =>
        {
            publisher.Delay = TimeSpan.Zero;
            publisher.Period = rpc.Value.HealthWatchInterval;
        });
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<RpcOptions>>((cors, rpc) =>
            cors.AddPolicy(CorsPolicy, policy => policy
                .WithOrigins([.. rpc.Value.CorsAllowedOrigins])
                .AllowAnyHeader()
                .WithMethods("GET", "POST")
                .WithExposedHeaders(ExposedHeaders)
                .SetPreflightMaxAge(TimeSpan.FromHours(2))));
        // Last: reflection and health checks call AddGrpc again, which would bring back the provider this replaces.
        services.AddMalformedRequestRefusal();
        return services;
    }

    /// <summary>What every host of the API runs before authentication: request ids, routing, CORS, gRPC-Web, and database outages as UNAVAILABLE.</summary>
    public static IApplicationBuilder UseGrpcTransport(this IApplicationBuilder app)
    {
        app.UseRequestIds();
        app.UseRouting();
        app.UseCors(CorsPolicy);
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.UseDatabaseOutageResponses();
        return app;
    }

    /// <summary>Health and reflection, which anyone may call (probes, grpcurl).</summary>
    public static IEndpointRouteBuilder MapGrpcInfrastructure(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcHealthChecksService().AllowAnonymous();
        endpoints.MapGrpcReflectionService().AllowAnonymous();
        return endpoints;
    }
}
