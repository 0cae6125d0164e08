using Google.Protobuf;
using Grpc.Core;
using Invisible.Contracts.Auth.V1;
using LinqToDB.Data;

namespace Invisible.Server.Tests.Accounts;

/// <summary>"Forgot password?": the request never tells whether an address has an account; the e-mailed link works once, for a while.</summary>
[Collection(AccountsCollection.Name)]
public sealed class PasswordRecoveryTests(AccountsServer server)
{
    private const string NewPassword = "a brand new passphrase after forgetting";

    [Fact]
    public async Task The_answer_is_the_same_for_an_address_without_an_account_and_nothing_is_sent_to_it()
    {
        var tenant = await server.NewTenantAsync();
        var unknown = $"nobody-{Guid.NewGuid():N}@{tenant.Slug}.example";

        var forUnknown = await RequestAsync(unknown);
        var forKnown = await RequestAsync(tenant.Admin.Email);
        // Requests are answered by e-mail one after another: once the known one's arrived, the unknown one was handled.
        await SentMail.WaitForAsync(server.MailFolder, tenant.Admin.Email);

        Assert.Equal((forKnown.Status, forKnown.Message, forKnown.Reason), (forUnknown.Status, forUnknown.Message, forUnknown.Reason));
        Assert.Equal(StatusCode.OK, forKnown.Status);
        Assert.Equal(forKnown.Response!.ToByteArray(), forUnknown.Response!.ToByteArray());
        Assert.Empty(SentMail.To(server.MailFolder, unknown));
    }

    [Fact]
    public async Task The_e_mail_links_to_the_reset_page_of_the_web_app_with_a_token_stored_only_as_its_hash()
    {
        var tenant = await server.NewTenantAsync();
        await RequestAsync(tenant.Admin.Email);

        var message = (await SentMail.WaitForAsync(server.MailFolder, tenant.Admin.Email)).Single();
        var link = SentMail.ResetLink(message);
        var token = SentMail.ResetToken(message);
        var storedHash = await ScalarAsync<byte[]>(tenant, "select token_hash from password_resets");

        Assert.Equal(new Uri(new Uri(server.Server.Endpoints.Http), "/reset-password").AbsoluteUri, link.GetLeftPart(UriPartial.Path));
        Assert.Contains("30 minutes", message.TextBody, StringComparison.Ordinal);
        Assert.Equal(Identity.Tokens.OpaqueTokens.Hash(token), storedHash);
    }

    [Fact]
    public async Task The_link_sets_the_password_once_and_a_second_use_is_refused_as_already_used()
    {
        var tenant = await server.NewTenantAsync();
        var token = await ResetTokenAsync(tenant, tenant.Admin.Email);

        var first = await ResetAsync(token, NewPassword);
        var second = await ResetAsync(token, NewPassword + " again");
        var oldPassword = await tenant.SignInAsync(tenant.Admin);
        var newPassword = await tenant.SignInAsync(tenant.Admin, NewPassword);

        Assert.Equal(StatusCode.OK, first.Status);
        Assert.Equal((StatusCode.FailedPrecondition, "PASSWORD_RESET_USED"), (second.Status, second.Reason));
        Assert.Contains("already used", second.Message, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unauthenticated, oldPassword.Status);
        Assert.Equal(StatusCode.OK, newPassword.Status);
    }

    [Fact]
    public async Task An_expired_link_is_refused_as_expired_and_sets_nothing()
    {
        var tenant = await server.NewTenantAsync();
        var token = await ResetTokenAsync(tenant, tenant.Admin.Email);
        await ExecuteAsync(tenant, "update password_resets set expires_at = now() - interval '1 minute'");

        var reset = await ResetAsync(token, NewPassword);

        Assert.Equal((StatusCode.FailedPrecondition, "PASSWORD_RESET_EXPIRED"), (reset.Status, reset.Reason));
        Assert.Contains("expired", reset.Message, StringComparison.Ordinal);
        Assert.Equal(StatusCode.OK, (await tenant.SignInAsync(tenant.Admin)).Status);
    }

    [Fact]
    public async Task A_link_lives_thirty_minutes()
    {
        var tenant = await server.NewTenantAsync();
        await ResetTokenAsync(tenant, tenant.Admin.Email);

        var lifetime = await ScalarAsync<TimeSpan>(tenant, "select expires_at - created_at from password_resets");

        Assert.InRange(lifetime, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(31));
    }

    [Fact]
    public async Task A_new_password_ends_every_session_and_the_next_sign_in_still_asks_for_the_second_factor()
    {
        var tenant = await server.NewTenantAsync();
        var before = await tenant.FullSessionAsync(tenant.Admin);
        var token = await ResetTokenAsync(tenant, tenant.Admin.Email);

        Assert.Equal(StatusCode.OK, (await ResetAsync(token, NewPassword)).Status);
        var oldAccess = await tenant.CallAsync(Rpcs.Auth("GetSession"), new GetSessionRequest(), before.AccessToken);
        var oldRefresh = await tenant.CallAsync(Rpcs.Auth("Refresh"), new RefreshRequest { RefreshToken = before.RefreshToken });
        var signIn = (await tenant.SignInAsync(tenant.Admin, NewPassword)).As<SignInResponse>();

        Assert.Equal(StatusCode.Unauthenticated, oldAccess.Status);
        Assert.Equal(StatusCode.Unauthenticated, oldRefresh.Status);
        Assert.Equal((NextStep.VerifyMfa, false), (signIn.NextStep, signIn.Session.MfaSatisfied));
    }

    [Fact]
    public async Task A_password_the_policy_refuses_leaves_the_link_usable()
    {
        var tenant = await server.NewTenantAsync();
        var token = await ResetTokenAsync(tenant, tenant.Admin.Email);

        var weak = await ResetAsync(token, "short");
        var good = await ResetAsync(token, NewPassword);

        Assert.Equal(StatusCode.InvalidArgument, weak.Status);
        Assert.Equal(StatusCode.OK, good.Status);
    }

    [Fact]
    public async Task An_unknown_token_is_refused_as_not_valid()
    {
        var reset = await ResetAsync("not-a-token-we-issued", NewPassword);

        Assert.Equal((StatusCode.NotFound, "PASSWORD_RESET_INVALID"), (reset.Status, reset.Reason));
    }

    [Fact]
    public async Task Too_many_requests_for_one_address_are_refused_whether_or_not_it_has_an_account()
    {
        var tenant = await server.NewTenantAsync();
        var unknown = $"nobody-{Guid.NewGuid():N}@{tenant.Slug}.example";

        var known = new List<StatusCode>();
        var notKnown = new List<StatusCode>();
        for (var i = 0; i < 4; i++)
        {
            known.Add((await RequestAsync(tenant.Admin.Email)).Status);
            notKnown.Add((await RequestAsync(unknown)).Status);
        }

        Assert.Equal([StatusCode.OK, StatusCode.OK, StatusCode.OK, StatusCode.ResourceExhausted], known);
        Assert.Equal(known, notKnown);
        Assert.Equal(3, (await SentMail.WaitForAsync(server.MailFolder, tenant.Admin.Email, 3)).Count);
    }

    [Fact]
    public async Task The_request_and_the_new_password_are_audited_in_the_users_tenant()
    {
        var tenant = await server.NewTenantAsync();
        var token = await ResetTokenAsync(tenant, tenant.Admin.Email);
        await ResetAsync(token, NewPassword);

        var actions = await ListAsync<string>(tenant, "select action from audit_log where action like 'password.reset.%' order by seq");

        Assert.Equal(["password.reset.requested", "password.reset.completed"], actions);
    }

    [Fact]
    public async Task With_several_organisations_the_tenant_limits_the_link_to_that_one()
    {
        var first = await server.NewTenantAsync();
        var second = await server.NewTenantAsync();
        var shared = await first.AddUserAsync(Identity.Roles.Clerk);
        // The same person invited into a second organisation.
        var admin = await second.FullSessionAsync(second.Admin);
        var invitation = (await second.CallAsync(Rpcs.Admin("InviteUser"), new Contracts.Admin.V1.InviteUserRequest { Email = shared.Email, Role = Identity.Roles.Clerk }, admin.AccessToken))
            .As<Contracts.Admin.V1.InviteUserResponse>();
        await second.CallAsync(Rpcs.Auth("AcceptInvitation"), new AcceptInvitationRequest { InvitationToken = invitation.InvitationToken, Password = shared.Password + " too" });

        await server.Channel.CallAsync(Rpcs.Auth("RequestPasswordReset"), new RequestPasswordResetRequest { Email = shared.Email, TenantSlug = second.Slug });
        await SentMail.WaitForAsync(server.MailFolder, shared.Email);

        Assert.Equal((0, 1), (await CountAsync(first, "select count(*) from password_resets"), await CountAsync(second, "select count(*) from password_resets")));
    }

    [Fact]
    public async Task A_totp_secret_sealed_under_a_key_the_server_no_longer_has_is_refused_with_what_to_do_instead_of_an_internal_error()
    {
        var tenant = await server.NewTenantAsync();
        await tenant.FullSessionAsync(tenant.Admin);
        await ExecuteAsync(tenant, "update users set mfa_secret_key_id = 'k-dropped-long-ago'");
        var signIn = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>();

        var verify = await tenant.CallAsync(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { TotpCode = tenant.NextCode(tenant.Admin.MfaSecret!) }, signIn.Session.AccessToken);

        Assert.Equal((StatusCode.FailedPrecondition, "MFA_KEY_UNAVAILABLE"), (verify.Status, verify.Reason));
        Assert.Contains("recovery code", verify.Message, StringComparison.Ordinal);
    }

    private Task<RpcReply> RequestAsync(string email) =>
        server.Channel.CallAsync(Rpcs.Auth("RequestPasswordReset"), new RequestPasswordResetRequest { Email = email });

    private Task<RpcReply> ResetAsync(string token, string password) =>
        server.Channel.CallAsync(Rpcs.Auth("ResetPassword"), new ResetPasswordRequest { Token = token, NewPassword = password });

    private async Task<string> ResetTokenAsync(TestTenant tenant, string email)
    {
        var already = SentMail.To(server.MailFolder, email).Count;
        Assert.Equal(StatusCode.OK, (await RequestAsync(email)).Status);
        return SentMail.ResetToken((await SentMail.WaitForAsync(server.MailFolder, email, already + 1))[already]);
    }

    private static async Task ExecuteAsync(TestTenant tenant, string sql)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        await unitOfWork.Db.ExecuteAsync(sql, CancellationToken.None);
        await unitOfWork.CommitAsync(CancellationToken.None);
    }

    private static async Task<T> ScalarAsync<T>(TestTenant tenant, string sql)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        return (await unitOfWork.Db.ExecuteAsync<T>(sql, CancellationToken.None))!;
    }

    private static Task<int> CountAsync(TestTenant tenant, string sql) => ScalarAsync<int>(tenant, sql);

    private static async Task<List<T>> ListAsync<T>(TestTenant tenant, string sql)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        return (await unitOfWork.Db.QueryToListAsync<T>(sql, CancellationToken.None)).ToList();
    }
}
