using LinqToDB.Data;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Auth.V1;
using Invisible.Identity.Tokens;
using Grpc.Core;

namespace Invisible.Server.Tests.Accounts;

[Collection(AccountsCollection.Name)]
public sealed class ApiKeyAndPolicyTests(AccountsServer server)
{
    [Fact]
    public async Task An_API_key_acts_for_its_tenant_and_role_is_stored_only_hashed_and_stops_working_when_revoked()
    {
        var tenant = await server.NewTenantAsync();
        var admin = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var created = (await tenant.CallAsync(Rpcs.Admin("CreateApiKey"), new CreateApiKeyRequest { Name = "ERP export", Role = "admin" }, admin))
            .As<CreateApiKeyResponse>();

        var listed = await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), apiKey: created.Key);
        var asPerson = await tenant.CallAsync(Rpcs.Auth("GetSession"), new GetSessionRequest(), apiKey: created.Key);
        await tenant.CallAsync(Rpcs.Admin("RevokeApiKey"), new RevokeApiKeyRequest { ApiKeyId = created.ApiKey.Id }, admin);
        var afterRevocation = await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), apiKey: created.Key);

        Assert.Equal(StatusCode.OK, listed.Status);
        Assert.Equal((StatusCode.PermissionDenied, "USER_SESSION_REQUIRED"), (asPerson.Status, asPerson.Reason));
        Assert.Equal((StatusCode.Unauthenticated, "API_KEY_INVALID"), (afterRevocation.Status, afterRevocation.Reason));
        Assert.StartsWith(created.ApiKey.KeyPrefix, created.Key);
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        var row = (await unitOfWork.Db.QueryToListAsync(
            row => (Hash: row.GetFieldValue<byte[]>(0), Prefix: row.GetFieldValue<string>(1)),
            "select key_hash, key_prefix from api_keys where id = @id::uuid", new { id = created.ApiKey.Id }, CancellationToken.None)).Single();
        Assert.Equal(OpaqueTokens.Hash(created.Key), row.Hash);
        Assert.True(row.Prefix.Length < created.Key.Length / 3);
    }

    [Fact]
    public async Task An_unknown_API_key_is_refused()
    {
        var tenant = await server.NewTenantAsync();

        var refused = await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), apiKey: ApiKeys.New());

        Assert.Equal((StatusCode.Unauthenticated, "API_KEY_INVALID"), (refused.Status, refused.Reason));
    }

    [Fact]
    public async Task MFA_is_required_by_default_and_when_an_admin_lifts_it_a_user_without_MFA_gets_access_but_an_enrolled_one_still_verifies()
    {
        var tenant = await server.NewTenantAsync();
        var auditor = await tenant.AddUserAsync("auditor");
        var admin = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var byDefault = (await tenant.CallAsync(Rpcs.Admin("GetMfaPolicy"), new GetMfaPolicyRequest(), admin)).As<MfaPolicy>();

        await tenant.CallAsync(Rpcs.Admin("SetMfaPolicy"), new SetMfaPolicyRequest { Required = false }, admin);
        var auditorSignIn = (await tenant.SignInAsync(auditor)).As<SignInResponse>();
        var adminSignIn = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>();
        var auditorCall = await tenant.CallAsync(Rpcs.Auth("ChangePassword"), new ChangePasswordRequest(), auditorSignIn.Session.AccessToken);
        var adminBeforeCode = await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), adminSignIn.Session.AccessToken);

        Assert.True(byDefault.Required);
        Assert.Equal(NextStep.None, auditorSignIn.NextStep);
        Assert.Equal("CURRENT_PASSWORD_WRONG", auditorCall.Reason);
        Assert.Equal(NextStep.VerifyMfa, adminSignIn.NextStep);
        Assert.Equal((StatusCode.PermissionDenied, "MFA_REQUIRED"), (adminBeforeCode.Status, adminBeforeCode.Reason));
    }

    [Fact]
    public async Task A_session_waiting_for_its_second_factor_cannot_replace_it()
    {
        var tenant = await server.NewTenantAsync();
        await tenant.FullSessionAsync(tenant.Admin);
        var passwordOnly = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>().Session.AccessToken;

        var replaced = await tenant.CallAsync(Rpcs.Auth("BeginMfaEnrolment"), new BeginMfaEnrolmentRequest(), passwordOnly);

        Assert.Equal((StatusCode.PermissionDenied, "MFA_REQUIRED"), (replaced.Status, replaced.Reason));
    }

    [Fact]
    public async Task An_invitation_link_works_once()
    {
        var tenant = await server.NewTenantAsync();
        var admin = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var invitation = (await tenant.CallAsync(Rpcs.Admin("InviteUser"), new InviteUserRequest { Email = $"new@{tenant.Slug}.example", Role = "clerk" }, admin))
            .As<InviteUserResponse>();
        var accept = new AcceptInvitationRequest { InvitationToken = invitation.InvitationToken, Password = "a long enough passphrase here" };

        var first = await tenant.CallAsync(Rpcs.Auth("AcceptInvitation"), accept);
        var second = await tenant.CallAsync(Rpcs.Auth("AcceptInvitation"), accept);

        Assert.Equal(NextStep.EnrolMfa, first.As<SignInResponse>().NextStep);
        Assert.Equal((StatusCode.NotFound, "INVITATION_INVALID"), (second.Status, second.Reason));
    }
}

/// <summary>A server of its own with low limits, so exhausting them does not disturb the other tests.</summary>
public sealed class LimitedServer : AccountsServer
{
    protected override IEnumerable<string> Settings => ["--Auth:RateLimitPerMinute=5", "--Auth:AddressMaxFailures=3"];
}

public sealed class RateLimitTests(LimitedServer server) : IClassFixture<LimitedServer>
{
    [Fact]
    public async Task Refresh_calls_beyond_the_per_minute_limit_are_refused_before_any_lookup()
    {
        var outcomes = new List<RpcReply>();
        for (var call = 0; call < 6; call++)
        {
            outcomes.Add(await server.Channel.CallAsync(Rpcs.Auth("Refresh"), new RefreshRequest { RefreshToken = $"not-a-token-{call}" }));
        }

        Assert.All(outcomes.Take(5), outcome => Assert.Equal("SESSION_ENDED", outcome.Reason));
        Assert.Equal((StatusCode.ResourceExhausted, "TOO_MANY_ATTEMPTS"), (outcomes[5].Status, outcomes[5].Reason));
    }

    [Fact]
    public async Task Failures_from_one_address_across_accounts_lock_that_address()
    {
        var tenant = await server.NewTenantAsync();
        for (var account = 0; account < 3; account++)
        {
            await tenant.SignInAsync(new TestUser($"guess{account}@{tenant.Slug}.example", "some guessed password", "clerk"));
        }

        var rightPassword = await tenant.SignInAsync(tenant.Admin);

        Assert.Equal((StatusCode.ResourceExhausted, "TOO_MANY_ATTEMPTS"), (rightPassword.Status, rightPassword.Reason));
    }
}

[Collection(AccountsCollection.Name)]
public sealed class LocalOperatorTests(AccountsServer server)
{
    [Fact]
    public async Task The_local_command_line_creates_a_working_API_key_as_the_audited_operator_without_a_password()
    {
        var tenant = await server.NewTenantAsync();

        var (apiKey, key) = await Server.Accounts.LocalOperator.CreateApiKeyAsync(
            server.Server.Services, tenant.Slug, "remote imports", "clerk", expiresAt: null, CancellationToken.None);
        var session = await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), apiKey: key);

        Assert.Equal("clerk", apiKey.Role);
        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (session.Status, session.Reason));
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        Assert.Equal("operator (local command line)", await unitOfWork.Db.ExecuteAsync<string>(
            "select actor from audit_log where action = 'api_key.created'", CancellationToken.None));
    }
}
