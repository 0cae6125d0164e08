using Grpc.AspNetCore.Server;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.Accounts;

/// <summary>
/// Who may call a gRPC method, as the running server actually serves it: read from its endpoints' metadata
/// (<c>[AllowAnonymous]</c>, <c>[Authorize(Policy = …)]</c>) and the policies behind the names, not from the source.
/// </summary>
/// <param name="SessionOnly">A person's session suffices, before the second factor and whatever the role.</param>
public sealed record DeclaredAccess(bool Anonymous, bool SessionOnly, bool PeopleOnly, IReadOnlyList<string> Roles)
{
    /// <summary>By method full name ("invisible.auth.v1.AuthService.SignIn"); a method without a declaration is absent.</summary>
    public static async Task<IReadOnlyDictionary<string, DeclaredAccess>> OfServerAsync(IServiceProvider services)
    {
        var policies = services.GetRequiredService<IAuthorizationPolicyProvider>();
        var declared = new Dictionary<string, DeclaredAccess>(StringComparer.Ordinal);
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints)
        {
            if (endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is not { } grpc)
            {
                continue;
            }

            var name = grpc.Method.FullName.TrimStart('/').Replace('/', '.');
            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                declared[name] = new DeclaredAccess(Anonymous: true, SessionOnly: false, PeopleOnly: false, Roles: []);
            }
            else if (endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().LastOrDefault(data => data.Policy is not null)?.Policy is { } policyName &&
                     await policies.GetPolicyAsync(policyName) is { } policy)
            {
                var roles = policy.Requirements.OfType<CallerRequirement.InRole>().SelectMany(requirement => requirement.Roles).ToList();
                var peopleOnly = policy.Requirements.OfType<CallerRequirement.Person>().Any();
                declared[name] = new DeclaredAccess(Anonymous: false, SessionOnly: roles.Count == 0, peopleOnly, roles);
            }
        }

        return declared;
    }
}
