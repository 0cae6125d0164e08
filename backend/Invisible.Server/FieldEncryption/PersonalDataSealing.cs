using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Server.Tenancy;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.FieldEncryption;

/// <summary>
/// Seals the personal data of every tenant when the server starts (the backfill after migration 0020, and the re-sealing
/// after a key rotation): users' and invitations' e-mail addresses, vendors' tax ids and e-mail addresses get a sealed copy
/// under the active key and, where looked up, their blind index. A value is sealed again when it has none, when it is
/// under an older key, or when its plaintext column no longer says the same (a vendor re-imported with a new tax id).
/// </summary>
public sealed class PersonalDataSealing(TenantDirectory tenants, TenantDatabase database, PersonalDataKeys keys, ILogger<PersonalDataSealing> logger)
    : BackgroundService
{
    /// <summary>Every tenant in turn (a failing one is logged, the others still done); returns how many rows were (re-)sealed.</summary>
    public Task<int> SealAllAsync(CancellationToken cancellationToken) =>
        EveryTenant.SumAsync(tenants, SealTenantAsync, logger, "Sealing the personal data", cancellationToken);

    /// <summary>Seals what is unsealed, stale or under a retired key in one tenant, in one transaction; returns how many rows.</summary>
    public async Task<int> SealTenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var data = await keys.DataAsync(cancellationToken);
        var index = await keys.IndexAsync(cancellationToken);
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var sealedRows = 0;

        var users = await unitOfWork.Db.GetTable<UserEmailRow>().ToListAsync(cancellationToken);
        foreach (var user in users)
        {
            var location = new PersonalDataLocation(tenantId, PersonalDataFields.UserEmail, user.Id);
            var emailIndex = index.OfEmail(user.Email);
            if (NeedsSealing(data, user.Email, user.EmailEncrypted, location) || !SameIndex(emailIndex, user.EmailIndex))
            {
                await unitOfWork.Db.GetTable<UserEmailRow>().Where(row => row.Id == user.Id)
                    .Set(row => row.EmailEncrypted, data.Seal(user.Email, location))
                    .Set(row => row.EmailIndex, emailIndex)
                    .UpdateAsync(cancellationToken);
                sealedRows++;
            }
        }

        var invitations = await unitOfWork.Db.GetTable<InvitationEmailRow>().ToListAsync(cancellationToken);
        foreach (var invitation in invitations)
        {
            var location = new PersonalDataLocation(tenantId, PersonalDataFields.InvitationEmail, invitation.Id);
            if (NeedsSealing(data, invitation.Email, invitation.EmailEncrypted, location))
            {
                await unitOfWork.Db.GetTable<InvitationEmailRow>().Where(row => row.Id == invitation.Id)
                    .Set(row => row.EmailEncrypted, data.Seal(invitation.Email, location))
                    .UpdateAsync(cancellationToken);
                sealedRows++;
            }
        }

        sealedRows += await SealVendorsAsync(unitOfWork, data, index, unitOfWork.Db.GetTable<VendorPersonalRow>(), cancellationToken);

        await unitOfWork.CommitAsync(cancellationToken);
        return sealedRows;
    }

    /// <summary>Seals a user's e-mail address and writes its blind index as soon as the user is created (sign-in finds it by the index).</summary>
    public async Task SealUserEmailAsync(TenantUnitOfWork unitOfWork, Guid userId, string email, CancellationToken cancellationToken)
    {
        var data = await keys.DataAsync(cancellationToken);
        var index = await keys.IndexAsync(cancellationToken);
        await unitOfWork.Db.GetTable<UserEmailRow>().Where(row => row.Id == userId)
            .Set(row => row.EmailEncrypted, data.Seal(email, new PersonalDataLocation(unitOfWork.TenantId, PersonalDataFields.UserEmail, userId)))
            .Set(row => row.EmailIndex, index.OfEmail(email))
            .UpdateAsync(cancellationToken);
    }

    /// <summary>
    /// Seals the vendors an import inserted or changed, in the import's own transaction, so its tax ids are found by their
    /// blind index at once rather than after the next start.
    /// </summary>
    public async Task<int> SealVendorsOfImportAsync(TenantUnitOfWork unitOfWork, Guid importId, CancellationToken cancellationToken) =>
        await SealVendorsAsync(unitOfWork, await keys.DataAsync(cancellationToken), await keys.IndexAsync(cancellationToken),
            unitOfWork.Db.GetTable<VendorPersonalRow>().Where(vendor => vendor.ImportId == importId), cancellationToken);

    private static async Task<int> SealVendorsAsync(
        TenantUnitOfWork unitOfWork, Identity.Encryption.PersonalData data, BlindIndex index, IQueryable<VendorPersonalRow> which, CancellationToken cancellationToken)
    {
        var tenantId = unitOfWork.TenantId;
        var sealedRows = 0;
        foreach (var vendor in await which.ToListAsync(cancellationToken))
        {
            var taxIdAt = PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorTaxId, vendor.Code);
            var emailAt = PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorEmail, vendor.Code);
            var taxIdIndex = index.OfTaxId(vendor.TaxId);
            if (NeedsSealing(data, vendor.TaxId, vendor.TaxIdEncrypted, taxIdAt) || NeedsSealing(data, vendor.Email, vendor.EmailEncrypted, emailAt)
                || !SameIndex(taxIdIndex, vendor.TaxIdIndex))
            {
                await unitOfWork.Db.GetTable<VendorPersonalRow>().Where(row => row.Id == vendor.Id)
                    .Set(row => row.TaxIdEncrypted, data.Seal(vendor.TaxId, taxIdAt))
                    .Set(row => row.TaxIdIndex, taxIdIndex)
                    .Set(row => row.EmailEncrypted, data.Seal(vendor.Email, emailAt))
                    .UpdateAsync(cancellationToken);
                sealedRows++;
            }
        }

        return sealedRows;
    }

    /// <summary>Seals an invitation's e-mail address as soon as the invitation is recorded.</summary>
    public async Task SealInvitationEmailAsync(TenantUnitOfWork unitOfWork, Guid invitationId, string email, CancellationToken cancellationToken)
    {
        var data = await keys.DataAsync(cancellationToken);
        await unitOfWork.Db.GetTable<InvitationEmailRow>().Where(row => row.Id == invitationId)
            .Set(row => row.EmailEncrypted, data.Seal(email, new PersonalDataLocation(unitOfWork.TenantId, PersonalDataFields.InvitationEmail, invitationId)))
            .UpdateAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (await SealAllAsync(stoppingToken) is > 0 and var sealedRows)
            {
                logger.LogInformation("Sealed the personal data of {Rows} rows with the current encryption key", sealedRows);
            }
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // Not fatal: sign-in still finds rows not indexed yet by their address. The next start tries again.
            logger.LogError(exception, "Sealing personal data with the current encryption key failed");
        }
    }

    /// <summary>
    /// Whether the stored value must be sealed (again): missing, under an older key, or no longer the plaintext beside it. A
    /// value that does not open (moved, altered, or under a key already dropped) throws, so the tenant is logged and left alone.
    /// </summary>
    private static bool NeedsSealing(Identity.Encryption.PersonalData data, string? plaintext, byte[]? stored, PersonalDataLocation location)
    {
        if (stored is null)
        {
            return plaintext is not null;
        }

        return (plaintext is not null && data.Open(stored, location) != plaintext) || data.NeedsResealing(stored);
    }

    private static bool SameIndex(byte[]? expected, byte[]? stored) =>
        expected is null ? stored is null : stored is not null && expected.AsSpan().SequenceEqual(stored);

    [Table("users")]
    private sealed class UserEmailRow
    {
        [Column("id"), PrimaryKey]
        public Guid Id { get; set; }

        [Column("email")]
        public string? Email { get; set; }

        [Column("email_encrypted")]
        public byte[]? EmailEncrypted { get; set; }

        [Column("email_index")]
        public byte[]? EmailIndex { get; set; }
    }

    [Table("invitations")]
    private sealed class InvitationEmailRow
    {
        [Column("id"), PrimaryKey]
        public Guid Id { get; set; }

        [Column("email")]
        public string? Email { get; set; }

        [Column("email_encrypted")]
        public byte[]? EmailEncrypted { get; set; }
    }

    [Table("vendors")]
    private sealed class VendorPersonalRow
    {
        [Column("id"), PrimaryKey]
        public Guid Id { get; set; }

        [Column("vendor_code")]
        public string Code { get; set; } = "";

        [Column("import_id")]
        public Guid? ImportId { get; set; }

        [Column("tax_id")]
        public string? TaxId { get; set; }

        [Column("email")]
        public string? Email { get; set; }

        [Column("tax_id_encrypted")]
        public byte[]? TaxIdEncrypted { get; set; }

        [Column("tax_id_index")]
        public byte[]? TaxIdIndex { get; set; }

        [Column("email_encrypted")]
        public byte[]? EmailEncrypted { get; set; }
    }
}
