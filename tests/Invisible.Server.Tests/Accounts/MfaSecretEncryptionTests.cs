using System.Text;
using LinqToDB.Data;
using Invisible.Contracts.Auth.V1;
using Invisible.Identity.Encryption;
using Invisible.Identity.Mfa;
using Invisible.Platform.Secrets;
using Grpc.Core;
using Invisible.Server.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.Accounts;

/// <summary>TOTP secrets at rest: sealed with the secret store's key, never in the database as plaintext, re-sealed when found so.</summary>
[Collection(AccountsCollection.Name)]
public sealed class MfaSecretEncryptionTests(AccountsServer server)
{
    [Fact]
    public async Task Neither_the_pending_nor_the_confirmed_secret_is_ever_in_the_database_in_plaintext()
    {
        var tenant = await server.NewTenantAsync();
        var signIn = (await tenant.SignInAsync(tenant.Admin)).As<SignInResponse>();
        var enrolment = (await tenant.CallAsync(Rpcs.Auth("BeginMfaEnrolment"), new BeginMfaEnrolmentRequest(), signIn.Session.AccessToken))
            .As<BeginMfaEnrolmentResponse>();
        var secret = Base32.Decode(enrolment.SecretBase32);
        var pending = await RowAsync(tenant);

        var confirmed = await tenant.CallAsync(Rpcs.Auth("ConfirmMfaEnrolment"),
            new ConfirmMfaEnrolmentRequest { TotpCode = tenant.NextCode(secret) }, signIn.Session.AccessToken);
        var enrolled = await RowAsync(tenant);

        Assert.Equal(StatusCode.OK, confirmed.Status);
        var activeKeyId = await ActiveKeyIdAsync();
        Assert.Equal((activeKeyId, (string?)null), (pending.PendingKeyId, pending.KeyId));
        Assert.Equal((activeKeyId, (string?)null), (enrolled.KeyId, enrolled.PendingKeyId));
        Assert.Null(enrolled.Pending);
        foreach (var (stage, row) in new[] { ("pending", pending), ("enrolled", enrolled) })
        {
            Assert.False(row.Everything.Contains(Convert.ToHexStringLower(secret), StringComparison.OrdinalIgnoreCase), $"{stage}: the secret in hex");
            Assert.False(row.Everything.Contains(enrolment.SecretBase32, StringComparison.OrdinalIgnoreCase), $"{stage}: the secret in base32");
            Assert.Equal(-1, (row.Secret ?? row.Pending!).AsSpan().IndexOf(secret));
        }

        Assert.False(await AuditMentionsAsync(tenant, enrolment.SecretBase32));
    }

    [Fact]
    public async Task A_plaintext_secret_from_before_encryption_still_verifies_and_is_sealed_on_use()
    {
        var tenant = await server.NewTenantAsync();
        await tenant.FullSessionAsync(tenant.Admin);
        await StoreAsPlaintextAsync(tenant, tenant.Admin.MfaSecret!);

        var session = await tenant.FullSessionAsync(tenant.Admin);
        var row = await RowAsync(tenant);

        Assert.True(session.MfaSatisfied);
        Assert.Equal(await ActiveKeyIdAsync(), row.KeyId);
        Assert.Equal(-1, row.Secret!.AsSpan().IndexOf(tenant.Admin.MfaSecret!));
    }

    [Fact]
    public async Task The_start_up_sweep_seals_every_plaintext_secret_without_waiting_for_its_user()
    {
        var tenant = await server.NewTenantAsync();
        await tenant.FullSessionAsync(tenant.Admin);
        await StoreAsPlaintextAsync(tenant, tenant.Admin.MfaSecret!);

        var resealed = await server.Server.Services.GetRequiredService<MfaSecretResealing>().ResealAllAsync(CancellationToken.None);
        var row = await RowAsync(tenant);
        var again = await server.Server.Services.GetRequiredService<MfaSecretResealing>().ResealAllAsync(CancellationToken.None);

        Assert.True(resealed >= 1);
        Assert.Equal(0, again);
        Assert.Equal(await ActiveKeyIdAsync(), row.KeyId);
        Assert.Equal(-1, row.Secret!.AsSpan().IndexOf(tenant.Admin.MfaSecret!));
        Assert.True((await tenant.FullSessionAsync(tenant.Admin)).MfaSatisfied);
    }

    [Fact]
    public async Task A_sealed_secret_copied_into_another_users_row_does_not_open()
    {
        var tenant = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);
        await tenant.FullSessionAsync(tenant.Admin);
        await tenant.FullSessionAsync(clerk);
        await using (var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None))
        {
            await unitOfWork.Db.ExecuteAsync(
                """
                update users set (mfa_secret, mfa_secret_key_id) = (select mfa_secret, mfa_secret_key_id from users where email_index = @admin)
                where email_index = @clerk
                """, new { admin = tenant.EmailIndexOf(tenant.Admin.Email), clerk = tenant.EmailIndexOf(clerk.Email) }, CancellationToken.None);
            await unitOfWork.CommitAsync(CancellationToken.None);
        }

        var signIn = (await tenant.SignInAsync(clerk)).As<SignInResponse>();
        var withAdminsCode = await tenant.CallAsync(Rpcs.Auth("VerifyMfa"),
            new VerifyMfaRequest { TotpCode = tenant.NextCode(tenant.Admin.MfaSecret!) }, signIn.Session.AccessToken);

        Assert.NotEqual(StatusCode.OK, withAdminsCode.Status);
    }

    [Fact]
    public async Task After_a_key_rotation_the_sweep_re_seals_under_the_new_key_so_the_old_one_can_be_dropped()
    {
        var tenant = await server.NewTenantAsync();
        await tenant.FullSessionAsync(tenant.Admin);
        var (older, newer) = (EncryptionKeyRing.NewKeyBase64(), EncryptionKeyRing.NewKeyBase64());
        var userId = await ScalarAsync<Guid>(tenant, "select id from users where email_index = @email");
        var beforeRotation = await new MfaSecretVault(new KeyRingSecret(older)).SealAsync(tenant.Id, userId, tenant.Admin.MfaSecret!, CancellationToken.None);
        await using (var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None))
        {
            await unitOfWork.Db.ExecuteAsync("update users set mfa_secret = @Value, mfa_secret_key_id = @KeyId where id = @userId", new { beforeRotation.Value, beforeRotation.KeyId, userId }, CancellationToken.None);
            await unitOfWork.CommitAsync(CancellationToken.None);
        }

        var rotated = new MfaSecretVault(new KeyRingSecret($"{newer} {older}"));
        var resealed = await ActivatorUtilities.CreateInstance<MfaSecretResealing>(server.Server.Services, rotated).ResealTenantAsync(tenant.Id, CancellationToken.None);
        var row = await RowAsync(tenant);
        var afterDrop = await new MfaSecretVault(new KeyRingSecret(newer)).OpenAsync(tenant.Id, userId, new StoredMfaSecret(row.Secret!, row.KeyId), CancellationToken.None);

        Assert.True(resealed >= 1);
        Assert.Equal(EncryptionKeyRing.FromSecret(newer).Active.Id, row.KeyId);
        Assert.NotEqual(beforeRotation.KeyId, row.KeyId);
        Assert.Equal(tenant.Admin.MfaSecret, afterDrop);
    }

    /// <summary>A secret store holding only the TOTP key ring under test (the product's own store holds the server's key).</summary>
    private sealed class KeyRingSecret(string ring) : ISecretStore
    {
        public Task<string> GetSecretAsync(string name, CancellationToken cancellationToken) =>
            name == SecretNames.TotpEncryptionKey ? Task.FromResult(ring) : throw new SecretNotFoundException(name, "test key ring");
    }

    private static async Task<T> ScalarAsync<T>(TestTenant tenant, string sql)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        return (await unitOfWork.Db.ExecuteAsync<T>(sql, new { email = tenant.EmailIndexOf(tenant.Admin.Email) }, CancellationToken.None))!;
    }

    private async Task<string> ActiveKeyIdAsync() =>
        EncryptionKeyRing.FromSecret(await server.Server.Services.GetRequiredService<ISecretStore>().GetSecretAsync(SecretNames.TotpEncryptionKey, CancellationToken.None))
            .Active.Id;

    /// <summary>As a database from before migration 0006 holds it: the raw secret and no key id.</summary>
    private static async Task StoreAsPlaintextAsync(TestTenant tenant, byte[] secret)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        var updated = await unitOfWork.Db.ExecuteAsync(
            "update users set mfa_secret = @secret, mfa_secret_key_id = null where email_index = @email", new { secret, email = tenant.EmailIndexOf(tenant.Admin.Email) }, CancellationToken.None);
        Assert.Equal(1, updated);
        await unitOfWork.CommitAsync(CancellationToken.None);
    }

    private static async Task<UserRow> RowAsync(TestTenant tenant)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        return (await unitOfWork.Db.QueryToListAsync<UserRow>(
            """
            select mfa_secret as Secret, mfa_secret_key_id as KeyId, mfa_pending_secret as Pending, mfa_pending_secret_key_id as PendingKeyId,
                   u::text as Everything
            from users u where email_index = @email
            """, new { email = tenant.EmailIndexOf(tenant.Admin.Email) }, CancellationToken.None)).Single();
    }

    private static async Task<bool> AuditMentionsAsync(TestTenant tenant, string text)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        return await unitOfWork.Db.ExecuteAsync<bool>(
            "select exists (select 1 from audit_log a where strpos(upper(a::text), upper(@text)) > 0)", new { text }, CancellationToken.None);
    }

    private sealed record UserRow(byte[]? Secret, string? KeyId, byte[]? Pending, string? PendingKeyId, string Everything);
}
