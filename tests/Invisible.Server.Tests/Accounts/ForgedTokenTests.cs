using Grpc.Core;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Auth.V1;
using Invisible.Contracts.Imports.V1;
using Invisible.Identity.Tokens;
using Invisible.Server.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.Accounts;

/// <summary>
/// A token re-signed with the real signing key (as after a key leak) names a user and a session, nothing more: the role and
/// the second factor are read from the user's row and the session's tokens, so a clerk cannot claim to be an administrator
/// or to have passed MFA.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class ForgedTokenTests(AccountsServer server)
{
    [Fact]
    public async Task A_clerks_token_re_signed_claiming_admin_and_otp_is_served_as_a_clerk_without_the_second_factor()
    {
        var tenant = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);
        var passwordOnly = (await tenant.SignInAsync(clerk)).As<SignInResponse>();
        var forged = await ReSignAsync(passwordOnly.Session.AccessToken, role: Identity.Roles.Admin, mfaSatisfied: true);

        var session = (await tenant.CallAsync(Rpcs.Auth("GetSession"), new GetSessionRequest(), forged)).As<SessionInfo>();
        var adminCall = await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), forged);
        var clerkCall = await tenant.CallAsync(Rpcs.Imports("ListImports"), new ListImportsRequest(), forged);

        Assert.Equal((Identity.Roles.Clerk, false), (session.Role, session.MfaSatisfied));
        Assert.Equal((StatusCode.PermissionDenied, "MFA_REQUIRED"), (adminCall.Status, adminCall.Reason));
        Assert.Equal((StatusCode.PermissionDenied, "MFA_REQUIRED"), (clerkCall.Status, clerkCall.Reason));
    }

    [Fact]
    public async Task A_clerk_past_the_second_factor_whose_token_claims_admin_is_refused_admin_methods_and_keeps_clerk_ones()
    {
        var tenant = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);
        var full = await tenant.FullSessionAsync(clerk);
        var forged = await ReSignAsync(full.AccessToken, role: Identity.Roles.Admin, mfaSatisfied: true);

        var adminCall = await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), forged);
        var clerkCall = await tenant.CallAsync(Rpcs.Imports("ListImports"), new ListImportsRequest(), forged);

        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (adminCall.Status, adminCall.Reason));
        Assert.Equal(StatusCode.OK, clerkCall.Status);
    }

    /// <summary>The same user, session and security stamp, with the claims changed and signed with the product's own key.</summary>
    private async Task<string> ReSignAsync(string accessToken, string role, bool mfaSatisfied)
    {
        var tokens = await server.Server.Services.GetRequiredService<AccessTokenService>().GetAsync(CancellationToken.None);
        var genuine = (await tokens.ValidateAsync(accessToken)).Caller ?? throw new InvalidOperationException("The genuine token did not validate.");
        return tokens.Issue(genuine with { Role = role, MfaSatisfied = mfaSatisfied });
    }
}
