using Invisible.Contracts.Vendors.V1;
using Invisible.Rpc.Hosting;

namespace Invisible.Server.Vendors;

public static class VendorsRegistration
{
    /// <summary>The gRPC <c>invisible.vendors.v1.VendorService</c> over the tenant's vendor master.</summary>
    public static RpcBuilder AddVendors(this RpcBuilder rpc)
    {
        rpc.Services.AddSingleton<VendorDirectoryQueries>();
        return rpc.AddService<VendorServiceHandler>(VendorsReflection.Descriptor.Services[0]);
    }
}
