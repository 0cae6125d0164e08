using System.Reflection;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Security;

/// <summary>
/// Deny by default, checked before the first call: every method of every gRPC service the product serves must say who
/// may call it. A service class of this assembly whose method carries neither <c>[Authorize(Policy = …)]</c> nor
/// <c>[AllowAnonymous]</c> stops start-up with the method's name, rather than being served to whoever asks.
/// </summary>
public static class AccessDeclarations
{
    public static IEndpointRouteBuilder EnsureEveryMethodDeclaresAccess(this IEndpointRouteBuilder endpoints)
    {
        var undeclared = Undeclared(endpoints.DataSources.SelectMany(source => source.Endpoints)).ToList();
        if (undeclared.Count > 0)
        {
            throw new InvalidOperationException(
                $"These gRPC methods declare no access policy; add [Authorize(Policy = AccessPolicies.…)] or [AllowAnonymous]: {string.Join(", ", undeclared)}");
        }

        return endpoints;
    }

    /// <summary>The full names of the product's gRPC methods among <paramref name="endpoints"/> that declare no access.</summary>
    public static IEnumerable<string> Undeclared(IEnumerable<Endpoint> endpoints) =>
        endpoints
            .Select(endpoint => (Endpoint: endpoint, Grpc: endpoint.Metadata.GetMetadata<GrpcMethodMetadata>()))
            .Where(entry => entry.Grpc is not null && entry.Grpc.ServiceType.Assembly == typeof(AccessDeclarations).Assembly)
            .Where(entry => entry.Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null &&
                            !entry.Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(data => data.Policy is not null))
            .Select(entry => entry.Grpc!.Method.FullName)
            .Distinct(StringComparer.Ordinal);

    /// <summary>The policy a handler method declares (null for <c>[AllowAnonymous]</c>), for tests that walk every method.</summary>
    public static string? PolicyOf(MethodInfo method) =>
        method.GetCustomAttribute<AllowAnonymousAttribute>() is not null ? null : method.GetCustomAttribute<AuthorizeAttribute>()?.Policy;
}
