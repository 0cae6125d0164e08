using Invisible.Contracts.Exceptions.V1;
using Invisible.Rpc.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Exceptions;

public static class ExceptionsRegistration
{
    /// <summary>The exception queue's actions and the gRPC <c>invisible.exceptions.v1.ExceptionService</c>.</summary>
    public static RpcBuilder AddExceptions(this RpcBuilder rpc)
    {
        rpc.Services.TryAddSingleton(TimeProvider.System);
        rpc.Services.TryAddSingleton<ExceptionQueue>();
        return rpc.AddService<ExceptionServiceHandler>(ExceptionsReflection.Descriptor.Services[0]);
    }
}
