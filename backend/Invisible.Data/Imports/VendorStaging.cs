using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Ingestion.Canonical;
using Npgsql;
using NpgsqlTypes;

namespace Invisible.Data.Imports;

/// <summary>
/// Vendors are staged with their personal data already sealed by <paramref name="sealing"/>: the merge matches a changed
/// tax id or e-mail address by its blind index, never by its text.
/// </summary>
internal sealed class VendorStaging(IVendorSealing sealing, Guid tenantId) : IImportStaging<VendorRow>
{
    public string CreateTableSql => """
        create temp table import_stage (
            source_line integer not null, vendor_code text not null, name text not null,
            tax_id_encrypted bytea, tax_id_index bytea, email_encrypted bytea, email_index bytea, country text, currency text, payment_terms text) on commit drop
        """;

    public string CopySql => "copy import_stage (source_line, vendor_code, name, tax_id_encrypted, tax_id_index, email_encrypted, email_index, country, currency, payment_terms) from stdin (format binary)";

    public async Task WriteAsync(NpgsqlBinaryImporter importer, VendorRow row, CancellationToken cancellationToken)
    {
        await importer.StartRowAsync(cancellationToken);
        await importer.WriteAsync(row.SourceLine, NpgsqlDbType.Integer, cancellationToken);
        await importer.WriteTextAsync(row.VendorCode, cancellationToken);
        await importer.WriteTextAsync(row.Name, cancellationToken);
        var sealedVendor = sealing.Seal(tenantId, row.VendorCode, row.TaxId, row.Email);
        await importer.WriteBytesAsync(sealedVendor.TaxIdEncrypted, cancellationToken);
        await importer.WriteBytesAsync(sealedVendor.TaxIdIndex, cancellationToken);
        await importer.WriteBytesAsync(sealedVendor.EmailEncrypted, cancellationToken);
        await importer.WriteBytesAsync(sealedVendor.EmailIndex, cancellationToken);
        await importer.WriteTextAsync(row.Country, cancellationToken);
        await importer.WriteTextAsync(row.Currency, cancellationToken);
        await importer.WriteTextAsync(row.PaymentTerms, cancellationToken);
    }

    public async Task<ImportMergeSummary> MergeAsync(TenantUnitOfWork unitOfWork, Guid importId, ImportRequest request, CancellationToken cancellationToken)
    {
        // The master file is the truth: a known vendor code takes the file's values; one that did not change is left alone.
        // SQL: a set-based merge that counts inserted and updated rows (insert ... on conflict do update returning xmax).
        // Sealed values differ on every sealing, so a tax id or e-mail address counts as changed when its blind index does.
        var merged = (await unitOfWork.QueryAsync(
            reader => (Inserted: reader.GetInt64(0), Updated: reader.GetInt64(1)),
            """
            with merged as (
            insert into vendors as v (tenant_id, vendor_code, name, tax_id_encrypted, tax_id_index, email_encrypted, email_index,
                                      country, currency, payment_terms, import_id)
            select @tenantId, vendor_code, name, tax_id_encrypted, tax_id_index, email_encrypted, email_index,
                   country, currency, payment_terms, @importId from import_stage
            on conflict (tenant_id, vendor_code) do update
                set name = excluded.name, tax_id_encrypted = excluded.tax_id_encrypted, tax_id_index = excluded.tax_id_index,
                    email_encrypted = excluded.email_encrypted, email_index = excluded.email_index, country = excluded.country,
                    currency = excluded.currency, payment_terms = excluded.payment_terms, import_id = excluded.import_id,
                    updated_at = now()
                where (v.name, v.tax_id_index, v.email_index, v.country, v.currency, v.payment_terms)
                      is distinct from (excluded.name, excluded.tax_id_index, excluded.email_index, excluded.country, excluded.currency, excluded.payment_terms)
            returning xmax = 0 as inserted)
            select count(*) filter (where inserted), count(*) filter (where not inserted) from merged
            """,
            new { tenantId = unitOfWork.TenantId, importId },
            cancellationToken)).Single();
        var total = await ImportStaging.CountStagedAsync(unitOfWork, cancellationToken);
        return new ImportMergeSummary(merged.Inserted, merged.Updated, total - merged.Inserted - merged.Updated);
    }
}
