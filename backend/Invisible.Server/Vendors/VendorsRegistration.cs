
namespace Invisible.Server.Vendors;

public static class VendorsRegistration
{
    /// <summary>The gRPC <c>invisible.vendors.v1.VendorService</c> over the tenant's vendor master.</summary>
    public static IServiceCollection AddVendors(this IServiceCollection services)
    {
        services.AddSingleton<VendorDirectoryQueries>();
        services.AddSingleton<VendorMaster>();
        services.AddSingleton<VendorMerges>();
        return services;
    }

    public static IEndpointRouteBuilder MapVendors(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<VendorServiceHandler>();
        return endpoints;
    }
}
