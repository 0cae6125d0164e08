using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Server.Tenancy;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.FieldEncryption;

/// <summary>
/// Re-seals the personal data of every tenant when the server starts: a value sealed under a key that is no longer the
/// active one (a rotation) is sealed again under the active key, and a blind index that is missing or no longer that of
/// its value is written again. Every writer seals before it writes, so there is no plaintext left to seal: that backfill
/// was the previous version's sweep, and migration 0022 refuses to drop the plaintext columns until it has run.
/// </summary>
public sealed class PersonalDataSealing(TenantDirectory tenants, TenantDatabase database, PersonalDataKeys keys, ILogger<PersonalDataSealing> logger)
    : BackgroundService
{
    /// <summary>Every tenant in turn (a failing one is logged, the others still done); returns how many rows were re-sealed.</summary>
    public Task<int> SealAllAsync(CancellationToken cancellationToken) =>
        EveryTenant.SumAsync(tenants, SealTenantAsync, logger, "Re-sealing the personal data", cancellationToken);

    /// <summary>
    /// Re-seals what is under a retired key or lacks its current blind index in one tenant, in one transaction; returns how
    /// many rows. A value that does not open (moved, altered, or under a key already dropped) throws, so the tenant is left alone.
    /// </summary>
    public async Task<int> SealTenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var data = await keys.DataAsync(cancellationToken);
        var index = await keys.IndexAsync(cancellationToken);
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var db = unitOfWork.Db;
        var sealedRows = 0;

        foreach (var user in await db.GetTable<UserEmailRow>().ToListAsync(cancellationToken))
        {
            var location = PersonalDataFields.OfUser(tenantId, user.Id);
            var email = data.Open(user.EmailEncrypted, location);
            var emailIndex = index.OfEmail(email)!;
            if (data.NeedsResealing(user.EmailEncrypted) || !SameIndex(emailIndex, user.EmailIndex))
            {
                await db.GetTable<UserEmailRow>().Where(row => row.Id == user.Id)
                    .Set(row => row.EmailEncrypted, data.Seal(email, location))
                    .Set(row => row.EmailIndex, emailIndex)
                    .UpdateAsync(cancellationToken);
                sealedRows++;
            }
        }

        foreach (var invitation in await db.GetTable<InvitationEmailRow>().ToListAsync(cancellationToken))
        {
            if (data.NeedsResealing(invitation.EmailEncrypted))
            {
                var location = PersonalDataFields.OfInvitation(tenantId, invitation.Id);
                await db.GetTable<InvitationEmailRow>().Where(row => row.Id == invitation.Id)
                    .Set(row => row.EmailEncrypted, data.Seal(data.Open(invitation.EmailEncrypted, location), location))
                    .UpdateAsync(cancellationToken);
                sealedRows++;
            }
        }

        foreach (var vendor in await db.GetTable<VendorPersonalRow>().ToListAsync(cancellationToken))
        {
            var taxId = data.Open(vendor.TaxIdEncrypted, PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorTaxId, vendor.Code));
            var email = data.Open(vendor.EmailEncrypted, PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorEmail, vendor.Code));
            var current = SealedVendorData.Of(data, index, tenantId, vendor.Code, taxId, email);
            if (UnderRetiredKey(data, vendor.TaxIdEncrypted) || UnderRetiredKey(data, vendor.EmailEncrypted)
                || !SameIndex(current.TaxIdIndex, vendor.TaxIdIndex) || !SameIndex(current.EmailIndex, vendor.EmailIndex))
            {
                await db.GetTable<VendorPersonalRow>().Where(row => row.Id == vendor.Id)
                    .Set(row => row.TaxIdEncrypted, current.TaxIdEncrypted)
                    .Set(row => row.TaxIdIndex, current.TaxIdIndex)
                    .Set(row => row.EmailEncrypted, current.EmailEncrypted)
                    .Set(row => row.EmailIndex, current.EmailIndex)
                    .UpdateAsync(cancellationToken);
                sealedRows++;
            }
        }

        await unitOfWork.CommitAsync(cancellationToken);
        return sealedRows;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (await SealAllAsync(stoppingToken) is > 0 and var sealedRows)
            {
                logger.LogInformation("Re-sealed the personal data of {Rows} rows with the current encryption key", sealedRows);
            }
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // Not fatal: values under an older key still open while that key is in the ring. The next start tries again.
            logger.LogError(exception, "Re-sealing personal data with the current encryption key failed");
        }
    }

    private static bool UnderRetiredKey(Identity.Encryption.PersonalData data, byte[]? stored) => stored is not null && data.NeedsResealing(stored);

    private static bool SameIndex(byte[]? expected, byte[]? stored) =>
        expected is null ? stored is null : stored is not null && expected.AsSpan().SequenceEqual(stored);

    [Table("users")]
    private sealed class UserEmailRow
    {
        [Column("id"), PrimaryKey]
        public Guid Id { get; set; }

        [Column("email_encrypted")]
        public byte[] EmailEncrypted { get; set; } = [];

        [Column("email_index")]
        public byte[] EmailIndex { get; set; } = [];
    }

    [Table("invitations")]
    private sealed class InvitationEmailRow
    {
        [Column("id"), PrimaryKey]
        public Guid Id { get; set; }

        [Column("email_encrypted")]
        public byte[] EmailEncrypted { get; set; } = [];
    }

    [Table("vendors")]
    private sealed class VendorPersonalRow
    {
        [Column("id"), PrimaryKey]
        public Guid Id { get; set; }

        [Column("vendor_code")]
        public string Code { get; set; } = "";

        [Column("tax_id_encrypted")]
        public byte[]? TaxIdEncrypted { get; set; }

        [Column("tax_id_index")]
        public byte[]? TaxIdIndex { get; set; }

        [Column("email_encrypted")]
        public byte[]? EmailEncrypted { get; set; }

        [Column("email_index")]
        public byte[]? EmailIndex { get; set; }
    }
}
