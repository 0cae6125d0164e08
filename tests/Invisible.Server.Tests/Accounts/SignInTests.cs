using LinqToDB.Data;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Auth.V1;
using Invisible.Identity.Mfa;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.Accounts;

[Collection(AccountsCollection.Name)]
public sealed class SignInTests(AccountsServer server)
{
    [Fact]
    public async Task Sign_in_then_MFA_enrolment_with_a_computed_code_gives_a_session_with_full_access()
    {
        var tenant = await server.NewTenantAsync();

        var signIn = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>();
        var beforeMfa = await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), signIn.Session.AccessToken);
        var enrolment = (await tenant.CallAsync(Rpcs.Auth("BeginMfaEnrolment"), new BeginMfaEnrolmentRequest(), signIn.Session.AccessToken))
            .As<BeginMfaEnrolmentResponse>();
        var secret = Base32.Decode(enrolment.SecretBase32);
        var confirmed = (await tenant.CallAsync(Rpcs.Auth("ConfirmMfaEnrolment"),
            new ConfirmMfaEnrolmentRequest { TotpCode = tenant.NextCode(secret) }, signIn.Session.AccessToken)).As<ConfirmMfaEnrolmentResponse>();
        var afterMfa = await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), confirmed.Session.AccessToken);

        Assert.Equal(NextStep.EnrolMfa, signIn.NextStep);
        Assert.False(signIn.Session.MfaSatisfied);
        Assert.Equal((StatusCode.PermissionDenied, "MFA_REQUIRED"), (beforeMfa.Status, beforeMfa.Reason));
        Assert.StartsWith("otpauth://totp/Invisible:", enrolment.OtpauthUri);
        Assert.Contains($"secret={enrolment.SecretBase32}", enrolment.OtpauthUri);
        Assert.Equal(10, confirmed.RecoveryCodes.Distinct().Count());
        Assert.True(confirmed.Session.MfaSatisfied);
        Assert.Equal(StatusCode.OK, afterMfa.Status);
        Assert.Contains(tenant.Admin.Email, afterMfa.As<ListUsersResponse>().Users.Select(user => user.Email));
    }

    [Fact]
    public async Task An_enrolled_user_signs_in_with_a_code_and_the_same_code_is_refused_the_second_time()
    {
        var tenant = await server.NewTenantAsync();
        await tenant.FullSessionAsync(tenant.Admin);
        var code = tenant.NextCode(tenant.Admin.MfaSecret!);

        var first = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>();
        var accepted = await tenant.CallAsync(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { TotpCode = code }, first.Session.AccessToken);
        var second = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>();
        var replayed = await tenant.CallAsync(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { TotpCode = code }, second.Session.AccessToken);

        Assert.Equal(NextStep.VerifyMfa, first.NextStep);
        Assert.True(accepted.As<Session>().MfaSatisfied);
        Assert.Equal((StatusCode.PermissionDenied, "MFA_CODE_REJECTED"), (replayed.Status, replayed.Reason));
        Assert.Contains("replayed", await AuditDetailsAsync(tenant, "auth.mfa_failed"));
    }

    [Fact]
    public async Task A_code_two_steps_off_is_refused_and_one_step_off_is_accepted()
    {
        var tenant = await server.NewTenantAsync();
        await tenant.FullSessionAsync(tenant.Admin);
        server.Clock.Advance(TimeSpan.FromMinutes(5));
        var now = Totp.StepAt(server.Clock.GetUtcNow());
        var secret = tenant.Admin.MfaSecret!;

        var session = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>().Session.AccessToken;
        var twoBehind = await tenant.CallAsync(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { TotpCode = Totp.Code(secret, now - 2) }, session);
        var twoAhead = await tenant.CallAsync(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { TotpCode = Totp.Code(secret, now + 2) }, session);
        var oneBehind = await tenant.CallAsync(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { TotpCode = Totp.Code(secret, now - 1) }, session);

        Assert.Equal(StatusCode.PermissionDenied, twoBehind.Status);
        Assert.Equal(StatusCode.PermissionDenied, twoAhead.Status);
        Assert.Equal(StatusCode.OK, oneBehind.Status);
    }

    [Fact]
    public async Task A_recovery_code_completes_a_sign_in_once()
    {
        var tenant = await server.NewTenantAsync();
        var signIn = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>();
        var recoveryCode = (await tenant.EnrolAsync(tenant.Admin, signIn.Session.AccessToken)).RecoveryCodes[3];

        var first = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>().Session.AccessToken;
        var used = await tenant.CallAsync(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { RecoveryCode = recoveryCode.ToUpperInvariant() }, first);
        var second = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>().Session.AccessToken;
        var reused = await tenant.CallAsync(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { RecoveryCode = recoveryCode }, second);

        Assert.True(used.As<Session>().MfaSatisfied);
        Assert.Equal((StatusCode.PermissionDenied, "MFA_CODE_REJECTED"), (reused.Status, reused.Reason));
        Assert.Equal(9, await ScalarAsync<int>(tenant, "select cardinality(recovery_code_hashes) from users where email_index = @email", new { email = tenant.EmailIndexOf(tenant.Admin.Email) }));
    }

    [Fact]
    public async Task Recovery_codes_are_stored_as_neither_the_code_nor_its_plain_hash()
    {
        var tenant = await server.NewTenantAsync();
        var signIn = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>();
        var codes = (await tenant.EnrolAsync(tenant.Admin, signIn.Session.AccessToken)).RecoveryCodes;

        var stored = await ScalarAsync<string[]>(tenant, "select recovery_code_hashes from users where email_index = @email", new { email = tenant.EmailIndexOf(tenant.Admin.Email) });

        Assert.Equal(10, stored.Length);
        Assert.All(stored, value => Assert.StartsWith(RecoveryCodes.KeyedPrefix, value));
        Assert.Empty(stored.Intersect(codes.Concat(codes.Select(RecoveryCodes.Hash))));
        Assert.DoesNotContain(stored, value => codes.Any(code => value.Contains(RecoveryCodes.Hash(code), StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Plain_recovery_code_hashes_from_before_the_key_are_wrapped_at_start_up_and_still_accept_their_codes()
    {
        var tenant = await server.NewTenantAsync();
        var signIn = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>();
        var codes = (await tenant.EnrolAsync(tenant.Admin, signIn.Session.AccessToken)).RecoveryCodes;
        await using (var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None))
        {
            await unitOfWork.Db.ExecuteAsync("update users set recovery_code_hashes = @plain where email_index = @email", new { plain = codes.Select(RecoveryCodes.Hash).ToArray(), email = tenant.EmailIndexOf(tenant.Admin.Email) }, CancellationToken.None);
            await unitOfWork.CommitAsync(CancellationToken.None);
        }

        var wrapping = server.Server.Services.GetRequiredService<Server.Accounts.RecoveryCodeWrapping>();
        var wrapped = await wrapping.WrapTenantAsync(tenant.Id, CancellationToken.None);
        var again = await wrapping.WrapTenantAsync(tenant.Id, CancellationToken.None);
        var stored = await ScalarAsync<string[]>(tenant, "select recovery_code_hashes from users where email_index = @email", new { email = tenant.EmailIndexOf(tenant.Admin.Email) });
        var session = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>().Session.AccessToken;
        var used = await tenant.CallAsync(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { RecoveryCode = codes[5] }, session);

        Assert.Equal((1, 0), (wrapped, again));
        Assert.All(stored, value => Assert.StartsWith(RecoveryCodes.KeyedPrefix, value));
        Assert.Empty(stored.Intersect(codes.Select(RecoveryCodes.Hash)));
        Assert.True(used.As<Session>().MfaSatisfied);
    }

    [Fact]
    public async Task Wrong_password_and_unknown_account_fail_alike()
    {
        var tenant = await server.NewTenantAsync();

        var wrongPassword = await tenant.SignInAsync(tenant.Admin, "not the password at all");
        var unknown = await tenant.SignInAsync(new TestUser($"nobody@{tenant.Slug}.example", "whatever password here", "clerk"));

        Assert.Equal((StatusCode.Unauthenticated, "SIGN_IN_FAILED"), (wrongPassword.Status, wrongPassword.Reason));
        Assert.Equal((wrongPassword.Status, wrongPassword.Reason, wrongPassword.Message), (unknown.Status, unknown.Reason, unknown.Message));
    }

    [Fact]
    public async Task The_eleventh_wrong_password_within_the_window_is_refused_without_checking_and_the_account_recovers_after_the_back_off()
    {
        var tenant = await server.NewTenantAsync();
        var failures = new List<RpcReply>();
        for (var attempt = 0; attempt < 10; attempt++)
        {
            failures.Add(await tenant.SignInAsync(tenant.Admin, $"wrong password number {attempt}"));
        }

        // The right password, so a refusal proves it was not checked.
        var eleventh = await tenant.SignInAsync(tenant.Admin);
        server.Clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var afterBackOff = await tenant.SignInAsync(tenant.Admin);

        Assert.All(failures, failure => Assert.Equal("SIGN_IN_FAILED", failure.Reason));
        Assert.Equal((StatusCode.ResourceExhausted, "TOO_MANY_ATTEMPTS"), (eleventh.Status, eleventh.Reason));
        Assert.Equal(StatusCode.OK, afterBackOff.Status);
        Assert.Equal(10, await CountAuditAsync(tenant, "auth.sign_in_failed"));
        Assert.Equal(1, await CountAuditAsync(tenant, "auth.sign_in_refused_locked"));
    }

    [Fact]
    public async Task Forty_concurrent_wrong_passwords_for_one_account_check_no_more_than_the_limit_of_ten()
    {
        var tenant = await server.NewTenantAsync();

        var attempts = await Task.WhenAll(Enumerable.Range(0, 40).Select(guess => tenant.SignInAsync(tenant.Admin, $"concurrent wrong guess {guess}")));
        // The right password, so a refusal proves the lock was in place after the burst.
        var rightPassword = await tenant.SignInAsync(tenant.Admin);

        Assert.Equal(10, attempts.Count(attempt => attempt.Reason == "SIGN_IN_FAILED"));
        Assert.Equal(30, attempts.Count(attempt => attempt.Reason == "TOO_MANY_ATTEMPTS"));
        Assert.Equal((StatusCode.ResourceExhausted, "TOO_MANY_ATTEMPTS"), (rightPassword.Status, rightPassword.Reason));
        Assert.Equal(10, await CountAuditAsync(tenant, "auth.sign_in_failed"));
        Assert.Equal(10, await ScalarAsync<int>(tenant, "select failures from sign_in_throttles where key = 'account:' || encode(@email, 'hex')", new { email = tenant.EmailIndexOf(tenant.Admin.Email) }));
    }

    [Fact]
    public async Task Sign_ins_failures_MFA_events_role_changes_and_key_creation_are_audited()
    {
        var tenant = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);
        await tenant.SignInAsync(clerk, "a wrong password for the clerk");
        var admin = await tenant.FullSessionAsync(tenant.Admin);
        var users = (await tenant.CallAsync(Rpcs.Admin("ListUsers"), new ListUsersRequest(), admin.AccessToken)).As<ListUsersResponse>();
        await tenant.CallAsync(Rpcs.Admin("SetUserRole"), new SetUserRoleRequest { UserId = users.Users.Single(u => u.Email == clerk.Email).Id, Role = "approver" }, admin.AccessToken);
        await tenant.CallAsync(Rpcs.Admin("CreateApiKey"), new CreateApiKeyRequest { Name = "nightly import", Role = "clerk" }, admin.AccessToken);

        var actions = await ActionsAsync(tenant);

        Assert.Superset(
            new HashSet<string>
            {
                "tenant.created", "user.created", "invitation.created", "invitation.accepted", "auth.signed_in", "auth.sign_in_failed",
                "auth.mfa_enrolment_started", "auth.mfa_enrolled", "user.role_changed", "api_key.created",
            },
            actions.ToHashSet());
    }

    private static async Task<IReadOnlyList<string>> ActionsAsync(TestTenant tenant)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        return (await unitOfWork.Db.QueryToListAsync<string>("select action from audit_log order by seq", CancellationToken.None)).ToList();
    }

    private static async Task<int> CountAuditAsync(TestTenant tenant, string action) =>
        await ScalarAsync<int>(tenant, "select count(*) from audit_log where action = @action", new { action });

    private static async Task<string> AuditDetailsAsync(TestTenant tenant, string action) =>
        await ScalarAsync<string>(tenant, "select string_agg(after::text, ' ') from audit_log where action = @action", new { action });

    private static async Task<T> ScalarAsync<T>(TestTenant tenant, string sql, object parameters)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        return (await unitOfWork.Db.ExecuteAsync<T>(sql, parameters ?? new { }, CancellationToken.None))!;
    }

    private static Data.Tenancy.TenantDatabase TenantDatabaseOf(TestTenant tenant) => tenant.Database;
}

/// <summary>
/// Counts process-wide password verifications, so it runs alone (no other test signs in meanwhile) on a server of its own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialAccountsCollection : ICollectionFixture<AccountsServer>
{
    public const string Name = "accounts, alone";
}

[Collection(SerialAccountsCollection.Name)]
public sealed class SignInWorkTests(AccountsServer server)
{
    [Fact]
    public async Task A_wrong_password_verifies_one_hash_whether_or_not_the_account_exists_and_fails_alike()
    {
        var tenant = await server.NewTenantAsync();

        var before = Server.Accounts.PasswordHashing.Verifications;
        var known = await tenant.SignInAsync(tenant.Admin, "not the password at all");
        var afterKnown = Server.Accounts.PasswordHashing.Verifications;
        var unknown = await tenant.SignInAsync(new TestUser($"nobody@{tenant.Slug}.example", "not the password at all", "clerk"));
        var afterUnknown = Server.Accounts.PasswordHashing.Verifications;

        Assert.Equal(1, afterKnown - before);
        Assert.Equal(1, afterUnknown - afterKnown);
        Assert.Equal((StatusCode.Unauthenticated, "SIGN_IN_FAILED"), (known.Status, known.Reason));
        Assert.Equal((known.Status, known.Reason, known.Message), (unknown.Status, unknown.Reason, unknown.Message));
    }
}
