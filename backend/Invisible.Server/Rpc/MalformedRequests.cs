using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Rpc;

/// <summary>
/// Bytes that do not parse as the method's request message are the client's fault: INVALID_ARGUMENT. Grpc.AspNetCore
/// parses the request before any interceptor runs and answers a parse failure with UNKNOWN ("Exception was thrown by
/// handler"), so this replaces its binder-based method provider with one that binds the same generated methods, handlers
/// and metadata, but with a request deserializer that turns a protobuf parse failure into an <see cref="RpcException"/>.
/// </summary>
public static class MalformedRequests
{
    /// <summary>
    /// Call after every <c>AddGrpc</c> (also made by <c>AddGrpcReflection</c>, <c>AddGrpcHealthChecks</c>, <c>AddGrpcSwagger</c>): swaps
    /// Grpc.AspNetCore's <c>BinderServiceMethodProvider&lt;&gt;</c> for <see cref="RefusingServiceMethodProvider{TService}"/>;
    /// both at once would map every method twice.
    /// </summary>
    public static IServiceCollection AddMalformedRequestRefusal(this IServiceCollection services)
    {
        var binderProviders = services.Where(descriptor =>
                descriptor.ServiceType == typeof(IServiceMethodProvider<>) && descriptor.ImplementationType?.Name == "BinderServiceMethodProvider`1")
            .ToList();
        if (binderProviders.Count == 0 && !services.Any(descriptor => descriptor.ImplementationType == typeof(RefusingServiceMethodProvider<>)))
        {
            throw new InvalidOperationException("Grpc.AspNetCore no longer registers BinderServiceMethodProvider<>; review MalformedRequests.");
        }

        binderProviders.ForEach(descriptor => services.Remove(descriptor));
        services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IServiceMethodProvider<>), typeof(RefusingServiceMethodProvider<>)));
        return services;
    }

    internal static Marshaller<TRequest> Refusing<TRequest>(Marshaller<TRequest> marshaller) => Marshallers.Create(
        marshaller.ContextualSerializer,
        context =>
        {
            try
            {
                return marshaller.ContextualDeserializer(context);
            }
            catch (InvalidProtocolBufferException)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"The request is not a valid {typeof(TRequest).Name} message."));
            }
        });
}

/// <summary>Binds a generated service as Grpc.AspNetCore's own provider does (its <c>BindService</c> method), with refusing request marshallers.</summary>
public sealed class RefusingServiceMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } bind &&
                bind.BindType.GetMethod(bind.BindMethodName, BindingFlags.Public | BindingFlags.Static, [typeof(ServiceBinderBase), type]) is { } bindMethod)
            {
                bindMethod.Invoke(null, [new Binder(context, type), null]);
                return;
            }
        }
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context, Type serviceBase) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, [typeof(TRequest), typeof(ServerCallContext)]);
            context.AddUnaryMethod(Refusing(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<ServerStreamingServerMethod<TService, TRequest, TResponse>>(
                method.Name, [typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)]);
            context.AddServerStreamingMethod(Refusing(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<ClientStreamingServerMethod<TService, TRequest, TResponse>>(
                method.Name, [typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)]);
            context.AddClientStreamingMethod(Refusing(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(
                method.Name, [typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)]);
            context.AddDuplexStreamingMethod(Refusing(method), metadata, invoker);
        }

        private static Method<TRequest, TResponse> Refusing<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class =>
            new(method.Type, method.ServiceName, method.Name, MalformedRequests.Refusing(method.RequestMarshaller), method.ResponseMarshaller);

        /// <summary>The handler method overriding the generated base's, and the endpoint metadata Grpc.AspNetCore gives it.</summary>
        private (TDelegate Invoker, List<object> Metadata) Model<TDelegate>(string name, Type[] parameters)
            where TDelegate : Delegate
        {
            var handler = Override(name, parameters) ?? throw new InvalidOperationException($"Could not find '{name}' on {typeof(TService)}.");
            // Service attributes first, method attributes last so that they win; POST with CORS preflight as gRPC's own.
            List<object> metadata = [.. typeof(TService).GetCustomAttributes(inherit: true), .. handler.GetCustomAttributes(inherit: true)];
            metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
            return ((TDelegate)Delegate.CreateDelegate(typeof(TDelegate), handler), metadata);
        }

        private MethodInfo? Override(string name, Type[] parameters)
        {
            for (var type = typeof(TService); type is not null; type = type.BaseType)
            {
                var method = type.GetMethod(name, BindingFlags.Public | BindingFlags.Instance, binder: null, parameters, modifiers: null);
                if (method is null)
                {
                    return null;
                }

                if (method.IsVirtual && method.GetBaseDefinition().DeclaringType == serviceBase)
                {
                    return method;
                }
            }

            return null;
        }
    }
}
