using System.Security.Cryptography;
using System.Text;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Testing;

namespace Invisible.Data.Tests;

public sealed class CrossTenantLookupTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private TestDatabase Database => fixture.Database;

    [Fact]
    public async Task A_blind_index_used_in_two_tenants_finds_both_users_but_not_disabled_ones()
    {
        var tenants = await Database.CreateTwoTenantsAsync();
        // The data layer treats the blind index as opaque bytes; a SHA-256 of the address stands in for the product's HMAC.
        var first = await InsertUserAsync(tenants.First.Id, "pat@example.com", disabled: false);
        var second = await InsertUserAsync(tenants.Second.Id, "pat@example.com", disabled: false);
        await InsertUserAsync(tenants.Second.Id, "gone@example.com", disabled: true);

        var found = await Database.CrossTenantLookup.FindUsersByEmailIndexAsync(Sha256("pat@example.com"), CancellationToken.None);

        Assert.Equal(
            new[] { new TenantScopedId(tenants.First.Id, first), new TenantScopedId(tenants.Second.Id, second) }.OrderBy(id => id.TenantId),
            found.OrderBy(id => id.TenantId));
        Assert.Empty(await Database.CrossTenantLookup.FindUsersByEmailIndexAsync(Sha256("gone@example.com"), CancellationToken.None));
    }

    [Fact]
    public async Task Api_keys_refresh_tokens_and_invitations_are_found_by_their_hash_only()
    {
        var tenant = await Database.CreateTenantAsync("keys");
        var userId = await InsertUserAsync(tenant.Id, "owner@example.com", disabled: false);
        var keyHash = Sha256("ik_live_secret");
        var tokenHash = Sha256("refresh-secret");
        var invitationHash = Sha256("invitation-secret");
        await using (var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None))
        {
            await uow.Db.ExecuteAsync(
                """
                insert into api_keys (tenant_id, name, key_prefix, key_hash, role) values (@TenantId, 'ci', 'ik_live', @keyHash, 'clerk');
                insert into refresh_tokens (tenant_id, user_id, family_id, token_hash, expires_at)
                    values (@TenantId, @userId, gen_random_uuid(), @tokenHash, now() + interval '1 day');
                insert into invitations (tenant_id, email_encrypted, role, token_hash, expires_at)
                    values (@TenantId, '\x01'::bytea, 'auditor', @invitationHash, now() + interval '1 day');
                """, new { uow.TenantId, userId, keyHash, tokenHash, invitationHash }, CancellationToken.None);
            await uow.CommitAsync(CancellationToken.None);
        }

        Assert.Equal(tenant.Id, (await Database.CrossTenantLookup.FindApiKeyAsync(keyHash, CancellationToken.None))?.TenantId);
        Assert.Equal(tenant.Id, (await Database.CrossTenantLookup.FindRefreshTokenAsync(tokenHash, CancellationToken.None))?.TenantId);
        Assert.Equal(tenant.Id, (await Database.CrossTenantLookup.FindInvitationAsync(invitationHash, CancellationToken.None))?.TenantId);
        Assert.Null(await Database.CrossTenantLookup.FindApiKeyAsync(Sha256("guessed"), CancellationToken.None));
    }

    [Fact]
    public async Task Tenants_with_undelivered_events_are_listed_for_the_dispatcher()
    {
        var tenants = await Database.CreateTwoTenantsAsync();
        foreach (var (tenant, published) in new[] { (tenants.First, false), (tenants.Second, true) })
        {
            await using var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
            await uow.Db.ExecuteAsync(
                """
                insert into outbox (id, tenant_id, topic, event_type, payload, published_at)
                values (gen_random_uuid(), @TenantId, 'invoices', 'invoice.imported', '{}', case when @published then now() end)
                """, new { uow.TenantId, published }, CancellationToken.None);
            await uow.CommitAsync(CancellationToken.None);
        }

        Assert.Contains(tenants.First.Id, await Database.CrossTenantLookup.TenantsWithPendingOutboxAsync(CancellationToken.None));
        Assert.DoesNotContain(tenants.Second.Id, await Database.CrossTenantLookup.TenantsWithPendingOutboxAsync(CancellationToken.None));
    }

    private async Task<Guid> InsertUserAsync(Guid tenantId, string email, bool disabled)
    {
        await using var uow = await Database.Tenants.BeginAsync(tenantId, CancellationToken.None);
        var id = await uow.Db.ExecuteAsync<Guid>(
            "insert into users (tenant_id, email_encrypted, email_index, role, disabled_at) values (@tenantId, '\\x01'::bytea, @emailIndex, 'clerk', case when @disabled then now() end) returning id",
            new { tenantId, emailIndex = Sha256(email), disabled }, CancellationToken.None);
        await uow.CommitAsync(CancellationToken.None);
        return id;
    }

    private static byte[] Sha256(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
