using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Keying;

public static class KeyingRegistration
{
    /// <summary>The to-key queue (PDFs e-mail intake kept), the gRPC <c>invisible.keying.v1.KeyingService</c> and the PDF route.</summary>
    public static IServiceCollection AddKeying(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<KeyingQueue>();
        services.TryAddSingleton<PdfTickets>();
        return services;
    }

    public static IEndpointRouteBuilder MapKeying(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<KeyingServiceHandler>();
        endpoints.MapKeyingPdf();
        return endpoints;
    }
}
