using Invisible.Contracts.Audit.V1;
using Invisible.Rpc.Hosting;

namespace Invisible.Server.Audit;

public static class AuditRegistration
{
    /// <summary>The gRPC <c>invisible.audit.v1.AuditService</c> over the tenant's hash-chained audit log.</summary>
    public static RpcBuilder AddAudit(this RpcBuilder rpc)
    {
        rpc.Services.AddSingleton<AuditTrail>();
        return rpc.AddService<AuditServiceHandler>(AuditReflection.Descriptor.Services[0]);
    }
}
