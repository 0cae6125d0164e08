using System.Security.Cryptography;
using System.Text;
using Invisible.Data.Access;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Platform.Secrets;
using Invisible.Server.Accounts;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Npgsql;

namespace Invisible.Server.QuickBooks;

[Table("quickbooks_connections")]
public sealed class QuickBooksConnectionRow
{
    [Column("tenant_id"), PrimaryKey] public Guid TenantId { get; set; }

    [Column("realm_id")] public string RealmId { get; set; } = "";

    [Column("company_name")] public string? CompanyName { get; set; }

    [Column("status")] public string Status { get; set; } = QuickBooksConnectionStatus.Connected;

    [Column("access_token")] public byte[]? AccessToken { get; set; }

    [Column("access_token_key_id")] public string? AccessTokenKeyId { get; set; }

    [Column("access_token_expires_at")] public DateTimeOffset? AccessTokenExpiresAt { get; set; }

    [Column("refresh_token")] public byte[] RefreshToken { get; set; } = [];

    [Column("refresh_token_key_id")] public string RefreshTokenKeyId { get; set; } = "";

    [Column("default_expense_account_id")] public string? DefaultExpenseAccountId { get; set; }

    [Column("default_expense_account_name")] public string? DefaultExpenseAccountName { get; set; }

    [Column("default_item_id")] public string? DefaultItemId { get; set; }

    [Column("default_item_name")] public string? DefaultItemName { get; set; }

    [Column("default_tax_code_id")] public string? DefaultTaxCodeId { get; set; }

    [Column("default_tax_code_name")] public string? DefaultTaxCodeName { get; set; }

    [Column("create_missing_vendors")] public bool CreateMissingVendors { get; set; }

    [Column("changes_checked_at")] public DateTimeOffset? ChangesCheckedAt { get; set; }

    [Column("last_error")] public string? LastError { get; set; }

    [Column("connected_by")] public string ConnectedBy { get; set; } = "";

    [Column("connected_at")] public DateTimeOffset ConnectedAt { get; set; }

    [Column("updated_at")] public DateTimeOffset UpdatedAt { get; set; }
}

public static class QuickBooksConnectionStatus
{
    public const string Connected = "connected";
    public const string NeedsReconnect = "needs_reconnect";
    public const string Disconnected = "disconnected";
}

/// <summary>The tenant has no usable QuickBooks connection (none, disconnected, or its refresh token was refused).</summary>
public sealed class QuickBooksNotConnectedException(string message) : Exception(message);

/// <summary>
/// OAuth tokens sealed at rest like TOTP secrets: AES-256-GCM under the secret store's TOTP key ring, bound to the tenant,
/// the realm and which token it is, so a ciphertext copied to another tenant or column does not open.
/// </summary>
public sealed class QuickBooksTokenVault(ISecretStore secrets)
{
    private readonly SecretStoreValue<EncryptionKeyRing> _ring = new(secrets, SecretNames.TotpEncryptionKey, EncryptionKeyRing.FromSecret);

    public async Task<SealedValue> SealAsync(Guid tenantId, string realmId, string kind, string token, CancellationToken cancellationToken) =>
        (await _ring.GetAsync(cancellationToken)).Seal(Encoding.UTF8.GetBytes(token), AssociatedData(tenantId, realmId, kind));

    public async Task<string> OpenAsync(Guid tenantId, string realmId, string kind, SealedValue sealedValue, CancellationToken cancellationToken) =>
        Encoding.UTF8.GetString((await _ring.GetAsync(cancellationToken)).Open(sealedValue, AssociatedData(tenantId, realmId, kind)));

    private static byte[] AssociatedData(Guid tenantId, string realmId, string kind) =>
        Encoding.UTF8.GetBytes($"invisible.quickbooks_connections.{kind}:{tenantId:N}:{realmId}");
}

/// <summary>
/// Each tenant's connected QuickBooks company and its tokens. An access token is refreshed when it is about to expire, with
/// the connection row locked: the new refresh token that the refresh returns replaces the old one in the same transaction,
/// so two workers never refresh with the same (then used) token and a restart finds the newest one.
/// </summary>
public sealed class QuickBooksConnections(
    TenantDatabase database, NpgsqlDataSource appDataSource, QuickBooksTokenVault vault, QuickBooksOAuth oauth, QuickBooksApi api, TimeProvider time,
    ILogger<QuickBooksConnections> logger)
{
    private const string AccessKind = "access_token";
    private const string RefreshKind = "refresh_token";
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Connects the tenant to the realm with tokens from the authorization-code flow or a refresh token pasted by an
    /// operator (which is exchanged at once, proving it and learning the company's name). Replaces an earlier connection.
    /// </summary>
    public async Task<QuickBooksConnectionRow> ConnectAsync(
        Guid tenantId, string realmId, QuickBooksTokens tokens, string actor, string? requestId, CancellationToken cancellationToken,
        string? defaultExpenseAccountId = null, bool? createMissingVendors = null)
    {
        var companyName = await api.CompanyNameAsync(new QuickBooksSession(realmId, tokens.AccessToken), cancellationToken);
        string? accountName = null;
        if (defaultExpenseAccountId is not null)
        {
            var accounts = await api.QueryEntitiesAsync(
                new QuickBooksSession(realmId, tokens.AccessToken), "Account", $"select * from Account where Id = '{QuickBooksQuery.Escape(defaultExpenseAccountId)}'", cancellationToken);
            accountName = (accounts.Count > 0 ? accounts[0] : null)?["Name"]?.GetValue<string>()
                ?? throw new ArgumentException($"QuickBooks company {realmId} has no account with the id {defaultExpenseAccountId}.");
        }

        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var existing = await unitOfWork.Db.GetTable<QuickBooksConnectionRow>().FirstOrDefaultAsync(cancellationToken);
        var row = existing ?? new QuickBooksConnectionRow { TenantId = tenantId };
        row.RealmId = realmId;
        row.CompanyName = companyName;
        row.Status = QuickBooksConnectionStatus.Connected;
        row.ConnectedBy = actor;
        row.ConnectedAt = time.GetUtcNow();
        row.LastError = null;
        if (defaultExpenseAccountId is not null)
        {
            (row.DefaultExpenseAccountId, row.DefaultExpenseAccountName) = (defaultExpenseAccountId, accountName);
        }

        row.CreateMissingVendors = createMissingVendors ?? row.CreateMissingVendors;
        row.ChangesCheckedAt ??= time.GetUtcNow();
        await StoreTokensAsync(row, tokens, cancellationToken);
        if (existing is null)
        {
            await unitOfWork.Db.InsertAsync(row, token: cancellationToken);
        }
        else
        {
            await unitOfWork.Db.UpdateAsync(row, token: cancellationToken);
        }

        await AuditLog.AppendAsync(
            unitOfWork, actor, "quickbooks.connected", "quickbooks_connection", realmId, existing is null ? null : new { existing.RealmId, existing.Status },
            new { realmId, companyName, row.DefaultExpenseAccountId, row.CreateMissingVendors }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return row;
    }

    /// <summary>Exchanges an operator's refresh token for the first tokens, then connects.</summary>
    public async Task<QuickBooksConnectionRow> ConnectWithRefreshTokenAsync(
        Guid tenantId, string realmId, string refreshToken, string actor, CancellationToken cancellationToken,
        string? defaultExpenseAccountId = null, bool? createMissingVendors = null)
    {
        var tokens = await oauth.RefreshAsync(refreshToken, cancellationToken);
        return await ConnectAsync(tenantId, realmId, tokens, actor, null, cancellationToken, defaultExpenseAccountId, createMissingVendors);
    }

    public async Task<QuickBooksConnectionRow?> FindAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        return await unitOfWork.Db.GetTable<QuickBooksConnectionRow>().FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>A session with a valid access token, refreshed (and the refresh token rotated) when needed.</summary>
    /// <param name="refreshNow">The last access token was refused: refresh even though it has not expired.</param>
    /// <exception cref="QuickBooksNotConnectedException">No connection, disconnected, or the refresh token was refused.</exception>
    public async Task<QuickBooksSession> SessionAsync(Guid tenantId, CancellationToken cancellationToken, bool refreshNow = false)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        // Locked until the rotated refresh token is stored: a second worker waits and then finds the new access token.
        var row = await LockedAsync(unitOfWork, cancellationToken)
            ?? throw new QuickBooksNotConnectedException("The tenant has not connected QuickBooks.");
        if (row.Status != QuickBooksConnectionStatus.Connected)
        {
            throw new QuickBooksNotConnectedException(row.Status == QuickBooksConnectionStatus.NeedsReconnect
                ? $"QuickBooks refused the stored authorization ({row.LastError}); connect the company again."
                : "QuickBooks is disconnected.");
        }

        if (!refreshNow && row.AccessToken is not null && row.AccessTokenKeyId is not null && row.AccessTokenExpiresAt > time.GetUtcNow() + ExpiryMargin)
        {
            return new QuickBooksSession(
                row.RealmId, await vault.OpenAsync(tenantId, row.RealmId, AccessKind, new SealedValue(row.AccessTokenKeyId, row.AccessToken), cancellationToken));
        }

        var refreshToken = await vault.OpenAsync(tenantId, row.RealmId, RefreshKind, new SealedValue(row.RefreshTokenKeyId, row.RefreshToken), cancellationToken);
        QuickBooksTokens tokens;
        try
        {
            tokens = await oauth.RefreshAsync(refreshToken, cancellationToken);
        }
        catch (QuickBooksGrantRefusedException refused)
        {
            row.Status = QuickBooksConnectionStatus.NeedsReconnect;
            row.LastError = refused.Error;
            row.UpdatedAt = time.GetUtcNow();
            await unitOfWork.Db.UpdateAsync(row, token: cancellationToken);
            await AuditLog.AppendAsync(
                unitOfWork, "quickbooks", "quickbooks.authorization_refused", "quickbooks_connection", row.RealmId, null, new { refused.Error }, null, cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
            logger.LogWarning("QuickBooks refused the refresh token of tenant {TenantId} ({Error}); the company must be connected again", tenantId, refused.Error);
            throw new QuickBooksNotConnectedException(refused.Message);
        }

        await StoreTokensAsync(row, tokens, cancellationToken);
        await unitOfWork.Db.UpdateAsync(row, token: cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return new QuickBooksSession(row.RealmId, tokens.AccessToken);
    }

    /// <summary>Runs <paramref name="call"/> with a session; an access token refused by QuickBooks is refreshed once.</summary>
    public async Task<T> CallAsync<T>(Guid tenantId, Func<QuickBooksSession, Task<T>> call, CancellationToken cancellationToken)
    {
        var session = await SessionAsync(tenantId, cancellationToken);
        try
        {
            return await call(session);
        }
        catch (QuickBooksFaultException fault) when (fault.IsAuthentication)
        {
            return await call(await SessionAsync(tenantId, cancellationToken, refreshNow: true));
        }
    }

    /// <summary>Revokes the refresh token at Intuit (which ends the access tokens too) and forgets both.</summary>
    public async Task<bool> DisconnectAsync(Guid tenantId, string actor, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var row = await LockedAsync(unitOfWork, cancellationToken);
        if (row is null || row.Status == QuickBooksConnectionStatus.Disconnected)
        {
            return false;
        }

        try
        {
            await oauth.RevokeAsync(
                await vault.OpenAsync(tenantId, row.RealmId, RefreshKind, new SealedValue(row.RefreshTokenKeyId, row.RefreshToken), cancellationToken), cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            // The tokens are forgotten anyway; Intuit ends an unused refresh token after 100 days.
            logger.LogWarning(exception, "Revoking the QuickBooks token of tenant {TenantId} failed; the tokens are forgotten", tenantId);
        }

        row.Status = QuickBooksConnectionStatus.Disconnected;
        row.AccessToken = null;
        row.AccessTokenKeyId = null;
        row.AccessTokenExpiresAt = null;
        row.RefreshToken = [];
        row.UpdatedAt = time.GetUtcNow();
        await unitOfWork.Db.UpdateAsync(row, token: cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, actor, "quickbooks.disconnected", "quickbooks_connection", row.RealmId, null, null, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The tenant that connected <paramref name="realmId"/> (a webhook names only the realm); null when none.</summary>
    public async Task<Guid?> TenantOfRealmAsync(string realmId, CancellationToken cancellationToken)
    {
        await using var connection = await appDataSource.OpenConnectionAsync(cancellationToken);
        using var db = ProductData.On(connection);
        // A SECURITY DEFINER function, so raw SQL: the webhook's one cross-tenant question.
        return (await db.QueryToListAsync<Guid?>("select quickbooks_find_tenant(@realmId)", cancellationToken, new DataParameter("realmId", realmId))).FirstOrDefault();
    }

    public async Task<IReadOnlyList<Guid>> ConnectedTenantsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await appDataSource.OpenConnectionAsync(cancellationToken);
        using var db = ProductData.On(connection);
        // A SECURITY DEFINER set-returning function, so raw SQL: the change capture's one cross-tenant question.
        return await db.QueryToListAsync<Guid>("select quickbooks_connected_tenants()", cancellationToken);
    }

    /// <summary>Starts the authorization-code flow: a single-use state (only its hash stored) valid for ten minutes.</summary>
    public async Task<string> NewOAuthStateAsync(Guid tenantId, string actor, CancellationToken cancellationToken)
    {
        var state = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        await unitOfWork.Db.GetTable<OAuthStateRow>().Where(s => s.ExpiresAt < time.GetUtcNow()).DeleteAsync(cancellationToken);
        await unitOfWork.Db.InsertAsync(new OAuthStateRow
        {
            TenantId = tenantId, StateHash = SHA256.HashData(Encoding.UTF8.GetBytes(state)), CreatedBy = actor, ExpiresAt = time.GetUtcNow().AddMinutes(10),
        }, token: cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return state;
    }

    /// <summary>The tenant and user that started the flow with <paramref name="state"/>, once; null for an unknown, used or expired state.</summary>
    public async Task<(Guid TenantId, string Actor)?> ClaimOAuthStateAsync(string state, CancellationToken cancellationToken)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(state));
        Guid? tenantId;
        await using (var connection = await appDataSource.OpenConnectionAsync(cancellationToken))
        {
            using var db = ProductData.On(connection);
            // A SECURITY DEFINER function, so raw SQL: the callback arrives before any tenant is known.
            tenantId = (await db.QueryToListAsync<Guid?>("select quickbooks_oauth_state_tenant(@hash)", cancellationToken, new DataParameter("hash", hash))).FirstOrDefault();
        }

        if (tenantId is null)
        {
            return null;
        }

        await using var unitOfWork = await database.BeginAsync(tenantId.Value, cancellationToken);
        var claimed = await unitOfWork.Db.GetTable<OAuthStateRow>().Where(s => s.StateHash == hash).FirstOrDefaultAsync(cancellationToken);
        if (claimed is null || await unitOfWork.Db.GetTable<OAuthStateRow>().Where(s => s.StateHash == hash).DeleteAsync(cancellationToken) != 1)
        {
            return null;
        }

        await unitOfWork.CommitAsync(cancellationToken);
        return (tenantId.Value, claimed.CreatedBy);
    }

    /// <summary>Sets the tenant's default expense account and whether missing vendors are created in QuickBooks.</summary>
    /// <summary>
    /// The tenant's defaults: expense account (empty or null: unchanged), item and tax code (null: unchanged, empty: none),
    /// whether missing vendors are created. Every id named must exist in the company. Audited.
    /// </summary>
    /// <exception cref="ArgumentException">The company has no such account, item or tax code.</exception>
    public async Task<QuickBooksConnectionRow> ConfigureAsync(
        Guid tenantId, string? defaultExpenseAccountId, bool? createMissingVendors, string actor, string? requestId, CancellationToken cancellationToken,
        string? defaultItemId = null, string? defaultTaxCodeId = null)
    {
        var accountName = string.IsNullOrWhiteSpace(defaultExpenseAccountId) ? null : await NameOfAsync(tenantId, QuickBooksEntities.Account, defaultExpenseAccountId, cancellationToken);
        var itemName = string.IsNullOrWhiteSpace(defaultItemId) ? null : await NameOfAsync(tenantId, QuickBooksEntities.Item, defaultItemId, cancellationToken);
        var taxCodeName = string.IsNullOrWhiteSpace(defaultTaxCodeId) ? null : await NameOfAsync(tenantId, QuickBooksEntities.TaxCode, defaultTaxCodeId, cancellationToken);

        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var row = await LockedAsync(unitOfWork, cancellationToken)
            ?? throw new QuickBooksNotConnectedException("The tenant has not connected QuickBooks.");
        var before = new { row.DefaultExpenseAccountId, row.DefaultItemId, row.DefaultTaxCodeId, row.CreateMissingVendors };
        if (!string.IsNullOrWhiteSpace(defaultExpenseAccountId))
        {
            (row.DefaultExpenseAccountId, row.DefaultExpenseAccountName) = (defaultExpenseAccountId, accountName);
        }

        if (defaultItemId is not null)
        {
            (row.DefaultItemId, row.DefaultItemName) = (NullIfBlank(defaultItemId), itemName);
        }

        if (defaultTaxCodeId is not null)
        {
            (row.DefaultTaxCodeId, row.DefaultTaxCodeName) = (NullIfBlank(defaultTaxCodeId), taxCodeName);
        }

        row.CreateMissingVendors = createMissingVendors ?? row.CreateMissingVendors;
        row.UpdatedAt = time.GetUtcNow();
        await unitOfWork.Db.UpdateAsync(row, token: cancellationToken);
        await AuditLog.AppendAsync(
            unitOfWork, actor, "quickbooks.configured", "quickbooks_connection", row.RealmId, before,
            new { row.DefaultExpenseAccountId, row.DefaultItemId, row.DefaultTaxCodeId, row.CreateMissingVendors }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return row;
    }

    /// <summary>The name (DisplayName for a vendor) of one entity of the connected company.</summary>
    /// <exception cref="ArgumentException">The company has no <paramref name="entityType"/> with that id.</exception>
    public async Task<string> NameOfAsync(Guid tenantId, string entityType, string id, CancellationToken cancellationToken)
    {
        var found = await CallAsync(tenantId, session => api.QueryEntitiesAsync(
            session, entityType, $"select * from {entityType} where Id = '{QuickBooksQuery.Escape(id)}'", cancellationToken), cancellationToken);
        var entity = found.Count > 0 ? found[0] : null;
        return (entity?["Name"] ?? entity?["DisplayName"])?.GetValue<string>()
            ?? throw new ArgumentException($"The QuickBooks company has no {entityType.ToLowerInvariant()} with the id {id}.");
    }

    private static string? NullIfBlank(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static async Task<QuickBooksConnectionRow?> LockedAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        // SQL: a row lock (select ... for update), which these LINQ queries do not say.
        await unitOfWork.Db.ExecuteAsync("select 1 from quickbooks_connections for update", cancellationToken);
        return await unitOfWork.Db.GetTable<QuickBooksConnectionRow>().FirstOrDefaultAsync(cancellationToken);
    }

    private async Task StoreTokensAsync(QuickBooksConnectionRow row, QuickBooksTokens tokens, CancellationToken cancellationToken)
    {
        var access = await vault.SealAsync(row.TenantId, row.RealmId, AccessKind, tokens.AccessToken, cancellationToken);
        var refresh = await vault.SealAsync(row.TenantId, row.RealmId, RefreshKind, tokens.RefreshToken, cancellationToken);
        (row.AccessToken, row.AccessTokenKeyId, row.AccessTokenExpiresAt) = (access.Ciphertext, access.KeyId, tokens.AccessTokenExpiresAt);
        (row.RefreshToken, row.RefreshTokenKeyId) = (refresh.Ciphertext, refresh.KeyId);
        row.UpdatedAt = time.GetUtcNow();
    }

    [Table("quickbooks_oauth_states")]
    private sealed class OAuthStateRow
    {
        [Column("tenant_id")] public Guid TenantId { get; set; }

        [Column("state_hash"), PrimaryKey] public byte[] StateHash { get; set; } = [];

        [Column("created_by")] public string CreatedBy { get; set; } = "";

        [Column("expires_at")] public DateTimeOffset ExpiresAt { get; set; }
    }
}

public static class QuickBooksQuery
{
    /// <summary>A value inside a single-quoted literal of QuickBooks' query language (apostrophes escaped with a backslash).</summary>
    public static string Escape(string value) => value.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("'", @"\'", StringComparison.Ordinal);
}
