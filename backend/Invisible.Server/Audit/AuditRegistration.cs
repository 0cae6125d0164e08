
namespace Invisible.Server.Audit;

public static class AuditRegistration
{
    /// <summary>The gRPC <c>invisible.audit.v1.AuditService</c> over the tenant's hash-chained audit log.</summary>
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddSingleton<AuditTrail>();
        return services;
    }

    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<AuditServiceHandler>();
        return endpoints;
    }
}
