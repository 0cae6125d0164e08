using System.Security.Cryptography;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Identity.Encryption;
using Invisible.Server.FieldEncryption;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;
using Invisible.Server.Accounts;

namespace Invisible.Server.Tenancy;

/// <summary>A tenant's first administrator and the one-time password to hand over (shown once, stored only hashed).</summary>
public sealed record TenantAdminLogin(string TenantSlug, string Email, string Password);

/// <summary>Creates tenants with their first administrator, audited. Used by <c>invisible tenant create</c> and the demo tenant.</summary>
public sealed class TenantOnboarding(TenantDatabase database, PersonalDataKeys personalDataKeys)
{
    public const string OperatorActor = Caller.OperatorActor;

    // Unambiguous characters only: the password is read off a terminal and typed by a person.
    private const string PasswordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    public async Task<TenantAdminLogin> CreateAsync(
        string slug, string displayName, string defaultCurrency, string adminEmail, string actor, CancellationToken cancellationToken)
    {
        var login = new TenantAdminLogin(slug, adminEmail, NewPassword());
        await using var unitOfWork = await database.BeginNewTenantAsync(slug, displayName, defaultCurrency, cancellationToken);
        var tenantId = unitOfWork.TenantId;
        // The id is chosen here: the sealed address is bound to it before the row exists.
        var userId = Guid.NewGuid();
        await unitOfWork.Db.InsertAsync(new UserRow
        {
            Id = userId, TenantId = tenantId, DisplayName = "Administrator", Role = "admin", PasswordHash = PasswordHashing.Hash(login.Password),
            EmailEncrypted = (await personalDataKeys.DataAsync(cancellationToken)).Seal(adminEmail, PersonalDataFields.OfUser(tenantId, userId))!,
            EmailIndex = (await personalDataKeys.IndexAsync(cancellationToken)).OfEmail(adminEmail)!,
        }, token: cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, actor, "tenant.created", "tenant", tenantId.ToString(), null,
            new { slug, displayName, defaultCurrency }, requestId: null, cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, actor, "user.created", "user", userId.ToString(), null,
            new { email = adminEmail, role = "admin" }, requestId: null, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return login;
    }

    /// <summary>Gives the tenant's administrator a new one-time password (the demo tenant when its login was lost).</summary>
    public async Task<TenantAdminLogin> ResetAdminPasswordAsync(Guid tenantId, string slug, string adminEmail, string actor, CancellationToken cancellationToken)
    {
        var login = new TenantAdminLogin(slug, adminEmail, NewPassword());
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        // SQL: update ... returning id, with gen_random_uuid() for the new security stamp.
        var userId = await unitOfWork.Db.ExecuteAsync<Guid?>(
            """
            update users set password_hash = @passwordHash, security_stamp = gen_random_uuid(), updated_at = now()
            where email_index = @emailIndex and role = 'admin'
            returning id
            """, new { emailIndex = (await personalDataKeys.IndexAsync(cancellationToken)).OfEmail(adminEmail), passwordHash = PasswordHashing.Hash(login.Password) }, cancellationToken)
            ?? throw new InvalidOperationException($"Tenant '{slug}' has no administrator {adminEmail}.");
        await AuditLog.AppendAsync(unitOfWork, actor, "user.password_reset", "user", userId.ToString(), null, null, requestId: null, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return login;
    }

    private static string NewPassword() => RandomNumberGenerator.GetString(PasswordAlphabet, 20);
}
