using LinqToDB.Data;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Auth.V1;
using Grpc.Core;

namespace Invisible.Server.Tests.Accounts;

[Collection(AccountsCollection.Name)]
public sealed class SessionTests(AccountsServer server)
{
    [Fact]
    public async Task A_refresh_rotates_the_token_and_presenting_a_used_one_revokes_the_whole_session()
    {
        var tenant = await server.NewTenantAsync();
        var session = await tenant.FullSessionAsync(tenant.Admin);

        var rotated = (await Refresh(tenant, session.RefreshToken)).As<Session>();
        var reuse = await Refresh(tenant, session.RefreshToken);
        var rotatedAfterReuse = await Refresh(tenant, rotated.RefreshToken);
        var accessAfterReuse = await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), rotated.AccessToken);

        Assert.NotEqual(session.RefreshToken, rotated.RefreshToken);
        Assert.True(rotated.MfaSatisfied);
        Assert.Equal((StatusCode.Unauthenticated, "SESSION_ENDED"), (reuse.Status, reuse.Reason));
        Assert.Equal((StatusCode.Unauthenticated, "SESSION_ENDED"), (rotatedAfterReuse.Status, rotatedAfterReuse.Reason));
        Assert.Equal(StatusCode.Unauthenticated, accessAfterReuse.Status);
        Assert.Equal(0, await CountAsync(tenant, "select count(*) from refresh_tokens where revoked_at is null and user_id = (select id from users where email_index = @email)", new { email = tenant.EmailIndexOf(tenant.Admin.Email) }));
        Assert.Equal(1, await CountAsync(tenant, "select count(*) from audit_log where action = 'auth.refresh_token_reused'", new { }));
    }

    [Fact]
    public async Task Refresh_tokens_are_stored_only_as_hashes()
    {
        var tenant = await server.NewTenantAsync();
        var session = await tenant.FullSessionAsync(tenant.Admin);

        var stored = await CountAsync(tenant, "select count(*) from refresh_tokens where token_hash = sha256(convert_to(@token, 'UTF8'))", new { token = session.RefreshToken });
        var clear = await CountAsync(tenant, "select count(*) from refresh_tokens where encode(token_hash, 'escape') like '%' || @token || '%'", new { token = session.RefreshToken });

        Assert.Equal((1, 0), (stored, clear));
    }

    [Fact]
    public async Task Signing_out_ends_this_session_only_and_signing_out_everywhere_ends_them_all()
    {
        var tenant = await server.NewTenantAsync();
        var laptop = await tenant.FullSessionAsync(tenant.Admin);
        var phone = await tenant.FullSessionAsync(tenant.Admin);
        var tablet = await tenant.FullSessionAsync(tenant.Admin);

        await tenant.CallAsync(Rpcs.Auth("SignOut"), new SignOutRequest(), laptop.AccessToken);
        var laptopAfterSignOut = await GetSession(tenant, laptop.AccessToken);
        var phoneAfterSignOut = await GetSession(tenant, phone.AccessToken);
        await tenant.CallAsync(Rpcs.Auth("SignOutEverywhere"), new SignOutEverywhereRequest(), phone.AccessToken);

        Assert.Equal(StatusCode.Unauthenticated, laptopAfterSignOut.Status);
        Assert.Equal(StatusCode.Unauthenticated, (await Refresh(tenant, laptop.RefreshToken)).Status);
        Assert.Equal(StatusCode.OK, phoneAfterSignOut.Status);
        Assert.Equal(StatusCode.Unauthenticated, (await GetSession(tenant, phone.AccessToken)).Status);
        Assert.Equal(StatusCode.Unauthenticated, (await GetSession(tenant, tablet.AccessToken)).Status);
        Assert.Equal(StatusCode.Unauthenticated, (await Refresh(tenant, tablet.RefreshToken)).Status);
    }

    [Fact]
    public async Task Changing_the_password_ends_every_other_session_and_keeps_this_one()
    {
        var tenant = await server.NewTenantAsync();
        var other = await tenant.FullSessionAsync(tenant.Admin);
        var current = await tenant.FullSessionAsync(tenant.Admin);
        var newPassword = "a brand new passphrase for the admin";

        var changed = await tenant.CallAsync(Rpcs.Auth("ChangePassword"),
            new ChangePasswordRequest { CurrentPassword = tenant.Admin.Password, NewPassword = newPassword }, current.AccessToken);
        var oldPassword = await tenant.SignInAsync(tenant.Admin);
        tenant.Admin.Password = newPassword;

        Assert.Equal(StatusCode.OK, (await GetSession(tenant, changed.As<Session>().AccessToken)).Status);
        Assert.Equal(StatusCode.Unauthenticated, (await GetSession(tenant, other.AccessToken)).Status);
        Assert.Equal(StatusCode.Unauthenticated, (await Refresh(tenant, other.RefreshToken)).Status);
        Assert.Equal(StatusCode.Unauthenticated, oldPassword.Status);
        Assert.Equal(StatusCode.OK, (await tenant.SignInAsync(tenant.Admin)).Status);
    }

    [Fact]
    public async Task A_short_or_common_new_password_is_refused_with_the_rule_it_breaks()
    {
        var tenant = await server.NewTenantAsync();
        var session = await tenant.FullSessionAsync(tenant.Admin);

        var refused = await tenant.CallAsync(Rpcs.Auth("ChangePassword"),
            new ChangePasswordRequest { CurrentPassword = tenant.Admin.Password, NewPassword = "short" }, session.AccessToken);

        Assert.Equal(StatusCode.InvalidArgument, refused.Status);
        Assert.Equal(StatusCode.OK, (await tenant.SignInAsync(tenant.Admin)).Status);
    }

    [Fact]
    public async Task Enrolling_MFA_ends_the_other_sessions_of_the_user()
    {
        var tenant = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);
        var earlier = (await tenant.SignInAsync(clerk)).As<SignInResponse>().Session;
        var enrolling = (await tenant.SignInAsync(clerk)).As<SignInResponse>().Session;

        await tenant.EnrolAsync(clerk, enrolling.AccessToken);

        Assert.Equal(StatusCode.Unauthenticated, (await GetSession(tenant, earlier.AccessToken)).Status);
        Assert.Equal(StatusCode.Unauthenticated, (await Refresh(tenant, earlier.RefreshToken)).Status);
    }

    [Fact]
    public async Task A_role_change_applies_at_once_because_the_users_sessions_end()
    {
        var tenant = await server.NewTenantAsync();
        var approver = await tenant.AddUserAsync(Identity.Roles.Approver);
        var approverSession = await tenant.FullSessionAsync(approver);
        var admin = await tenant.FullSessionAsync(tenant.Admin);
        var userId = (await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), admin.AccessToken))
            .As<ListUsersResponse>().Users.Single(user => user.Email == approver.Email).Id;

        await tenant.CallAsync(Rpcs.Admin("SetUserRole"), new SetUserRoleRequest { UserId = userId, Role = "auditor" }, admin.AccessToken);
        var newSession = await tenant.FullSessionAsync(approver);

        Assert.Equal(StatusCode.Unauthenticated, (await GetSession(tenant, approverSession.AccessToken)).Status);
        Assert.Equal("auditor", (await GetSession(tenant, newSession.AccessToken)).As<SessionInfo>().Role);
    }

    [Fact]
    public async Task An_access_token_expires_after_fifteen_minutes_and_a_refresh_renews_it()
    {
        var tenant = await server.NewTenantAsync();
        var session = await tenant.FullSessionAsync(tenant.Admin);

        server.Clock.Advance(TimeSpan.FromMinutes(16) + TimeSpan.FromSeconds(61));
        var expired = await GetSession(tenant, session.AccessToken);
        var renewed = (await Refresh(tenant, session.RefreshToken)).As<Session>();

        Assert.Equal((StatusCode.Unauthenticated, "ACCESS_TOKEN_INVALID"), (expired.Status, expired.Reason));
        Assert.Equal(StatusCode.OK, (await GetSession(tenant, renewed.AccessToken)).Status);
    }

    [Fact]
    public async Task A_client_that_sends_its_expired_access_token_along_can_still_refresh()
    {
        var tenant = await server.NewTenantAsync();
        var session = await tenant.FullSessionAsync(tenant.Admin);
        server.Clock.Advance(TimeSpan.FromMinutes(20));

        var renewed = await tenant.CallAsync(Rpcs.Auth("Refresh"), new RefreshRequest { RefreshToken = session.RefreshToken }, session.AccessToken);

        Assert.Equal(StatusCode.OK, renewed.Status);
    }

    private static Task<RpcReply> Refresh(TestTenant tenant, string refreshToken) =>
        tenant.CallAsync(Rpcs.Auth("Refresh"), new RefreshRequest { RefreshToken = refreshToken });

    private static Task<RpcReply> GetSession(TestTenant tenant, string accessToken) =>
        tenant.CallAsync(Rpcs.Auth("GetSession"), new GetSessionRequest(), accessToken);

    private static async Task<int> CountAsync(TestTenant tenant, string sql, object parameters)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        return await unitOfWork.Db.ExecuteAsync<int>(sql, parameters ?? new { }, CancellationToken.None);
    }
}
