using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Exceptions;

public static class ExceptionsRegistration
{
    /// <summary>The exception queue's actions and the gRPC <c>invisible.exceptions.v1.ExceptionService</c> and <c>ApprovalService</c>.</summary>
    public static IServiceCollection AddExceptions(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ExceptionQueue>();
        return services;
    }

    public static IEndpointRouteBuilder MapExceptions(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<ExceptionServiceHandler>();
        endpoints.MapGrpcService<ApprovalServiceHandler>();
        return endpoints;
    }
}
