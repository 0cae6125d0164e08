using Invisible.Identity.Tokens;
using Microsoft.AspNetCore.Authorization;
using static Invisible.Identity.Roles;

namespace Invisible.Server.Security;

/// <summary>
/// Who may call what, by name: every RPC method carries <c>[Authorize(Policy = AccessPolicies.X)]</c> or
/// <c>[AllowAnonymous]</c>; start-up refuses a method with neither (<see cref="AccessDeclarations"/>). A role policy also demands the second factor (when
/// the tenant or the user requires one); the people-only policies refuse API keys. Role and second factor are read from
/// the caller's session row by the authentication schemes, never from what a token claims.
/// </summary>
public static class AccessPolicies
{
    /// <summary>A person's session, even before the second factor: verify or enrol MFA, sign out, who am I.</summary>
    public const string SignedIn = "signed-in";

    /// <summary>Every role, people only: changing one's own password.</summary>
    public const string Person = "person";

    /// <summary>Every role: reading invoices, exceptions, vendors, imports, the dashboard.</summary>
    public const string Reader = "reader";

    /// <summary>Admins and clerks: imports, reconcile, column mappings.</summary>
    public const string Clerk = "clerk";

    /// <summary>Admins, clerks and approvers: working the exception queue (assign, reject).</summary>
    public const string Reviewer = "reviewer";

    /// <summary>Admins and approvers: overriding an exception (approve, re-match, "not a duplicate").</summary>
    public const string Approver = "approver";

    /// <summary>Admins and auditors: the audit log.</summary>
    public const string Auditor = "auditor";

    /// <summary>Admins, API keys of the admin role included: tolerances, and reading users, invitations, keys and the sign-in policy.</summary>
    public const string Admin = "admin";

    /// <summary>Admins, people only: changing roles, users, invitations, API keys and the sign-in policy.</summary>
    public const string AdminPerson = "admin-person";

    public static void AddTo(AuthorizationOptions options)
    {
        options.AddPolicy(SignedIn, policy => policy.RequireAuthenticatedUser().AddRequirements(CallerRequirement.PersonOnly));
        options.AddPolicy(Person, policy => Roles(policy, [Admin, Approver, Clerk, Auditor], peopleOnly: true));
        options.AddPolicy(Reader, policy => Roles(policy, [Admin, Approver, Clerk, Auditor]));
        options.AddPolicy(Clerk, policy => Roles(policy, [Admin, Clerk]));
        options.AddPolicy(Reviewer, policy => Roles(policy, [Admin, Clerk, Approver]));
        options.AddPolicy(Approver, policy => Roles(policy, [Admin, Approver]));
        options.AddPolicy(Auditor, policy => Roles(policy, [Admin, Auditor]));
        options.AddPolicy(Admin, policy => Roles(policy, [Admin]));
        options.AddPolicy(AdminPerson, policy => Roles(policy, [Admin], peopleOnly: true));
    }

    private static void Roles(AuthorizationPolicyBuilder policy, string[] roles, bool peopleOnly = false)
    {
        policy.RequireAuthenticatedUser().AddRequirements(CallerRequirement.SecondFactor, new CallerRequirement.InRole(roles));
        if (peopleOnly)
        {
            policy.AddRequirements(CallerRequirement.PersonOnly);
        }
    }
}

/// <summary>What a policy demands of the <see cref="Caller"/>; each failure names the reason clients see.</summary>
public abstract record CallerRequirement(string Reason, string Message) : IAuthorizationRequirement
{
    public static readonly CallerRequirement PersonOnly = new Person();
    public static readonly CallerRequirement SecondFactor = new Mfa();

    /// <summary>Whether <paramref name="caller"/> (null: anonymous) meets this requirement.</summary>
    public abstract bool IsMetBy(Caller? caller);

    public sealed record Person() : CallerRequirement("USER_SESSION_REQUIRED", "This method is for people signed in, not API keys.")
    {
        public override bool IsMetBy(Caller? caller) => caller is { Kind: CallerKind.User };
    }

    public sealed record Mfa() : CallerRequirement("MFA_REQUIRED", "Complete multi-factor authentication first.")
    {
        public override bool IsMetBy(Caller? caller) => caller is { MfaSatisfied: true };
    }

    public sealed record InRole(IReadOnlyList<string> Roles) : CallerRequirement("ROLE_NOT_PERMITTED", "Your role may not do this.")
    {
        public override bool IsMetBy(Caller? caller) => caller is not null && Roles.Contains(caller.Role, StringComparer.Ordinal);
    }
}

/// <summary>Evaluates every <see cref="CallerRequirement"/> against the request's verified caller.</summary>
public sealed class CallerRequirementHandler : AuthorizationHandler<CallerRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, CallerRequirement requirement)
    {
        // An unmet requirement is left pending rather than failed explicitly: then the result lists it among the
        // FailedRequirements, from which the refusal names its reason (an explicit Fail would empty that list).
        if (requirement.IsMetBy(CallerPrincipal.Read(context.User)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
