using System.Collections.Frozen;
using System.Reflection;
using Invisible.Identity;

namespace Invisible.Server.Rpc;

public enum RpcAccessLevel
{
    /// <summary>No credentials (sign-in, refresh, invitation acceptance, health).</summary>
    Anonymous,

    /// <summary>A person's session, even before the second factor (verify or enrol MFA, sign out, who am I).</summary>
    Session,

    /// <summary>One of the listed roles, with the second factor satisfied when the tenant or the user demands it.</summary>
    Roles,
}

/// <summary>
/// Who may call a handler method, declared on the method itself. A method without one is refused (deny by default), and
/// the access-matrix tests fail for it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RpcAccessAttribute : Attribute
{
    public RpcAccessAttribute(RpcAccessLevel level)
    {
        if (level == RpcAccessLevel.Roles)
        {
            throw new ArgumentException("List the roles instead: [RpcAccess(Roles.Admin, ...)].", nameof(level));
        }

        Level = level;
    }

    /// <summary>Callers in one of <paramref name="roles"/> (see <see cref="Identity.Roles"/>).</summary>
    public RpcAccessAttribute(params string[] roles)
    {
        if (roles.Length == 0 || !roles.All(Identity.Roles.IsKnown))
        {
            throw new ArgumentException($"List one or more of the roles {string.Join(", ", Identity.Roles.All)}.", nameof(roles));
        }

        Level = RpcAccessLevel.Roles;
        Roles = roles;
    }

    public RpcAccessLevel Level { get; }

    public IReadOnlyList<string> Roles { get; } = [];

    /// <summary>Counted against the per-address and per-account rate limits (sign-in, MFA, refresh).</summary>
    public bool RateLimited { get; init; }

    /// <summary>Only for people (e.g. changing one's password); API keys are refused even with a listed role. Implied by <see cref="RpcAccessLevel.Session"/>.</summary>
    public bool PeopleOnly
    {
        get => field || Level == RpcAccessLevel.Session;
        init;
    }
}

/// <summary>Names the gRPC service a handler class serves, so its methods' <see cref="RpcAccessAttribute"/>s can be found by RPC.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class RpcHandlerAttribute(string serviceFullName) : Attribute
{
    public string ServiceFullName { get; } = serviceFullName;
}

/// <summary>Every declared access policy by full method name ("invisible.auth.v1.AuthService.SignIn").</summary>
public sealed class RpcAccessPolicies
{
    // grpc.health.v1.Health lives in the protocol layer, which knows nothing of roles: probes run without credentials.
    private static readonly KeyValuePair<string, RpcAccessAttribute>[] ProtocolServices =
    [
        new("grpc.health.v1.Health.Check", new RpcAccessAttribute(RpcAccessLevel.Anonymous)),
        new("grpc.health.v1.Health.Watch", new RpcAccessAttribute(RpcAccessLevel.Anonymous)),
    ];

    private readonly FrozenDictionary<string, RpcAccessAttribute> _byMethod;

    public RpcAccessPolicies(IEnumerable<KeyValuePair<string, RpcAccessAttribute>> policies) =>
        _byMethod = policies.Concat(ProtocolServices).ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The policies declared on the handlers of <paramref name="assembly"/> (the server's, by default).</summary>
    public static RpcAccessPolicies FromHandlers(Assembly? assembly = null) =>
        new((assembly ?? typeof(RpcAccessPolicies).Assembly).GetTypes()
            .Select(type => (Type: type, Handler: type.GetCustomAttribute<RpcHandlerAttribute>()))
            .Where(entry => entry.Handler is not null)
            .SelectMany(entry => entry.Type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Select(method => (method.Name, Access: method.GetCustomAttribute<RpcAccessAttribute>()))
                .Where(method => method.Access is not null)
                .Select(method => new KeyValuePair<string, RpcAccessAttribute>($"{entry.Handler!.ServiceFullName}.{method.Name}", method.Access!))));

    public IReadOnlyDictionary<string, RpcAccessAttribute> ByMethod => _byMethod;

    public RpcAccessAttribute? Find(string methodFullName) => _byMethod.GetValueOrDefault(methodFullName);
}
