using System.Reflection;
using Google.Protobuf.Reflection;

namespace Invisible.Rpc.Binding;

/// <summary>
/// Binds the methods of a proto service descriptor to a handler class by name and message types. Every problem
/// is collected and reported at once, naming the service, the method and the signature that was expected.
/// </summary>
internal static class RpcServiceBinder
{
    public static IReadOnlyList<RpcMethodBinding> Bind(Type handlerType, ServiceDescriptor service, IReadOnlySet<string> leftUnimplemented)
    {
        var problems = new List<string>();
        var bindings = new List<RpcMethodBinding>();
        foreach (var name in leftUnimplemented.Where(name => service.FindMethodByName(name) is null))
        {
            problems.Add($"{service.FullName} has no method '{name}' to leave unimplemented.");
        }

        foreach (var method in service.Methods)
        {
            var candidates = handlerType.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.Name == method.Name).ToList();
            if (leftUnimplemented.Contains(method.Name))
            {
                if (candidates.Count > 0)
                {
                    problems.Add($"{method.FullName} is left unimplemented, yet {handlerType.Name} defines {method.Name}.");
                }

                continue;
            }

            if (method.IsClientStreaming)
            {
                problems.Add($"{method.FullName} is {(method.IsServerStreaming ? "bidirectional" : "client")}-streaming, which Invisible.Rpc does not serve; leave it unimplemented.");
                continue;
            }

            if (BindMethod(handlerType, method, candidates, out var problem) is { } binding)
            {
                bindings.Add(binding);
            }
            else
            {
                problems.Add(problem!);
            }
        }

        if (problems.Count > 0)
        {
            throw new RpcBindingException($"Cannot bind {handlerType.FullName} to {service.FullName}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems));
        }

        return bindings;
    }

    private static RpcMethodBinding? BindMethod(Type handlerType, MethodDescriptor method, List<MethodInfo> candidates, out string? problem)
    {
        var requestType = method.InputType.ClrType;
        var responseType = method.OutputType.ClrType;
        Type[] parameters = method.IsServerStreaming
            ? [requestType, typeof(IServerStreamWriter<>).MakeGenericType(responseType), typeof(RpcCallContext)]
            : [requestType, typeof(RpcCallContext)];
        var returnType = method.IsServerStreaming ? typeof(Task) : typeof(Task<>).MakeGenericType(responseType);
        var expected = $"public {Describe(returnType)} {method.Name}({string.Join(", ", parameters.Select(Describe))})";

        var match = candidates.FirstOrDefault(m => m.ReturnType == returnType && m.GetParameters().Select(p => p.ParameterType).SequenceEqual(parameters));
        if (match is null)
        {
            problem = candidates.Count == 0
                ? $"{method.FullName}: {handlerType.Name} has no method {method.Name}; expected {expected}."
                : $"{method.FullName}: {handlerType.Name}.{method.Name} has signature {string.Join(" | ", candidates.Select(DescribeSignature))}; expected {expected}.";
            return null;
        }

        problem = null;
        var bindingType = method.IsServerStreaming
            ? typeof(ServerStreamingMethodBinding<,,>).MakeGenericType(handlerType, requestType, responseType)
            : typeof(UnaryMethodBinding<,,>).MakeGenericType(handlerType, requestType, responseType);
        var delegateType = method.IsServerStreaming
            ? typeof(Func<,,,,>).MakeGenericType(handlerType, parameters[0], parameters[1], parameters[2], returnType)
            : typeof(Func<,,,>).MakeGenericType(handlerType, parameters[0], parameters[1], returnType);
        return (RpcMethodBinding)Activator.CreateInstance(bindingType, method, match.CreateDelegate(delegateType))!;
    }

    private static string DescribeSignature(MethodInfo method) =>
        $"{Describe(method.ReturnType)} {method.Name}({string.Join(", ", method.GetParameters().Select(p => Describe(p.ParameterType)))})";

    private static string Describe(Type type) =>
        type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", type.GetGenericArguments().Select(Describe))}>"
            : type.Name;
}
