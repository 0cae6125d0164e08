using Invisible.Rpc.Binding;

namespace Invisible.Rpc.Hosting;

/// <summary>The bound methods by HTTP path; filled while services are configured, read-only once serving.</summary>
internal sealed class RpcServiceRegistry
{
    private readonly Dictionary<string, RpcMethodBinding> _methodsByPath = new(StringComparer.Ordinal);
    private readonly HashSet<string> _serviceNames = new(StringComparer.Ordinal);

    public IReadOnlySet<string> ServiceNames => _serviceNames;

    public void Add(string serviceName, IEnumerable<RpcMethodBinding> bindings)
    {
        if (!_serviceNames.Add(serviceName))
        {
            throw new RpcBindingException($"Service {serviceName} is registered twice.");
        }

        foreach (var binding in bindings)
        {
            _methodsByPath.Add(binding.Path, binding);
        }
    }

    public bool TryGetMethod(string path, out RpcMethodBinding binding) => _methodsByPath.TryGetValue(path, out binding!);
}
