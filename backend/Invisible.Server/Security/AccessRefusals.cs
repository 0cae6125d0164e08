using System.Globalization;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Invisible.Server.Security;

/// <summary>
/// How a refused request is answered: with the reason clients branch on, in the form of the protocol it came by. A gRPC
/// or gRPC-Web call gets UNAUTHENTICATED (no or invalid credentials) or PERMISSION_DENIED (the policy is not met) with
/// <c>google.rpc.ErrorInfo</c>, a REST call HTTP 401/403 with the same status as JSON. The first unmet requirement in
/// the order person → second factor → role names the reason, as a person would fix them.
/// </summary>
public sealed class AccessRefusals(ILogger<AccessRefusals> logger) : IAuthorizationMiddlewareResultHandler
{
    public const string Domain = "auth.invisible.app";

    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded || !ErrorResponses.IsApiRequest(context))
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var refusal = authorizeResult.Challenged ? Unauthenticated(context) : Forbidden(context, authorizeResult.AuthorizationFailure);
        logger.LogInformation("{Path} refused: {Reason}", context.Request.Path, refusal.Reason);
        await ErrorResponses.WriteAsync(context, refusal);
    }

    private static DomainException Unauthenticated(HttpContext context) =>
        AuthenticationFailure.Of(context) is { } failure
            ? DomainException.WithReason(ErrorKind.Unauthenticated, failure.Message, failure.Reason, Domain)
            : DomainException.WithReason(ErrorKind.Unauthenticated, "Sign in to use this service.", "UNAUTHENTICATED", Domain);

    private static DomainException Forbidden(HttpContext context, AuthorizationFailure? failure)
    {
        var unmet = failure?.FailedRequirements.OfType<CallerRequirement>().ToList() ?? [];
        var first = unmet.OfType<CallerRequirement.Person>().Cast<CallerRequirement>()
            .Concat(unmet.OfType<CallerRequirement.Mfa>())
            .Concat(unmet.OfType<CallerRequirement.InRole>())
            .FirstOrDefault();
        if (first is CallerRequirement.InRole && CallerPrincipal.Read(context.User) is { } caller)
        {
            return DomainException.WithReason(
                ErrorKind.PermissionDenied, string.Create(CultureInfo.InvariantCulture, $"The role '{caller.Role}' may not do this."), first.Reason, Domain);
        }

        return first is null
            ? DomainException.WithReason(ErrorKind.PermissionDenied, "You may not do this.", "PERMISSION_DENIED", Domain)
            : DomainException.WithReason(ErrorKind.PermissionDenied, first.Message, first.Reason, Domain);
    }
}
