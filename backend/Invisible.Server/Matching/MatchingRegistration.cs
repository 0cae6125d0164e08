using Invisible.Platform.Events;
using Invisible.Server.Imports;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Matching;

public static class MatchingRegistration
{
    /// <summary>The reconcile/export application service and the gRPC <c>invisible.matching.v1.MatchingService</c>.</summary>
    public static IServiceCollection AddMatching(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InvoiceMatching>();
        services.TryAddSingleton<ArrivalSessions>();
        services.TryAddSingleton<ToleranceAdministration>();
        services.TryAddSingleton<Models.SimilarityModelRetraining>();
        services.AddHostedService(provider => provider.GetRequiredService<Models.SimilarityModelRetraining>());
        services.AddIntegrationEventHandler<FileImported, ReevaluateAfterImport>(ReevaluateAfterImport.Consumer);
        return services;
    }

    public static IEndpointRouteBuilder MapMatching(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<MatchingServiceHandler>();
        return endpoints;
    }
}
