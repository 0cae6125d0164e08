using Invisible.Contracts.Matching.V1;
using Invisible.Platform.Events;
using Invisible.Server.Imports;
using Invisible.Rpc.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Matching;

public static class MatchingRegistration
{
    /// <summary>The reconcile/export application service and the gRPC <c>invisible.matching.v1.MatchingService</c>.</summary>
    public static RpcBuilder AddMatching(this RpcBuilder rpc)
    {
        rpc.Services.TryAddSingleton(TimeProvider.System);
        rpc.Services.TryAddSingleton<InvoiceMatching>();
        rpc.Services.TryAddSingleton<ToleranceAdministration>();
        rpc.Services.AddIntegrationEventHandler<FileImported, ReevaluateAfterImport>(ReevaluateAfterImport.Consumer);
        return rpc.AddService<MatchingServiceHandler>(MatchingReflection.Descriptor.Services[0]);
    }
}
