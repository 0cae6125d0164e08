using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Server.FieldEncryption;

namespace Invisible.Server.Vendors;

public sealed record VendorRow(
    Guid Id, string VendorCode, string Name, string? TaxId, string? Country, string? Currency, string? Email, string? PaymentTerms,
    long AliasCount, long OpenExceptionCount, string? MergedIntoCode = null);

/// <summary>A name or tax id a vendor was seen under, and where it came from: for a confirmed name the decision, who and the invoice.</summary>
public sealed record VendorAliasRow(string Kind, string Value, string Source, DateTime CreatedAt, string? Decision = null, string? CreatedBy = null, Guid? InvoiceId = null);

public sealed record VendorPage(IReadOnlyList<VendorRow> Vendors, bool HasMore, long TotalCount);

/// <summary>
/// The vendor master of one tenant as people browse it: in the tenant's unit of work, so row-level security keeps every
/// query to that tenant and another tenant's codes simply find nothing.
/// </summary>
/// <param name="personalDataKeys">Opens the sealed tax ids and e-mail addresses for the caller (every caller here may read vendors) and searches tax ids by their blind index.</param>
public sealed class VendorDirectoryQueries(TenantDatabase database, PersonalDataKeys personalDataKeys)
{
    /// <summary>A vendor as stored: tax id and e-mail address sealed (issue #20).</summary>
    private sealed record SealedVendorRow(
        Guid Id, string VendorCode, string Name, byte[]? TaxIdEncrypted, string? Country, string? Currency, byte[]? EmailEncrypted, string? PaymentTerms,
        long AliasCount, long OpenExceptionCount, string? MergedIntoCode)
    {
        public VendorRow Open(Identity.Encryption.PersonalData data, Guid tenantId) => new(
            Id, VendorCode, Name, data.Open(TaxIdEncrypted, PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorTaxId, VendorCode)),
            Country, Currency, data.Open(EmailEncrypted, PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorEmail, VendorCode)),
            PaymentTerms, AliasCount, OpenExceptionCount, MergedIntoCode);
    }

    [Table("vendor_aliases")]
    private sealed class VendorAliasTableRow
    {
        [Column("vendor_id")] public Guid VendorId { get; init; }

        [Column("kind")] public string Kind { get; init; } = "";

        [Column("value")] public string Value { get; init; } = "";

        [Column("source")] public string Source { get; init; } = "";

        [Column("created_at")] public DateTime CreatedAt { get; init; }

        [Column("decision")] public string? Decision { get; init; }

        [Column("created_by")] public string? CreatedBy { get; init; }

        [Column("invoice_id")] public Guid? InvoiceId { get; init; }
    }

    // SQL: the page's vendors are a materialised CTE in "C" collation order, which LINQ cannot say.
    // The page's vendors first, then their alias and open-exception counts in one grouped query each: a count subquery
    // per vendor row hash-joined the whole open queue once for every row of the page.
    private static string SelectPage(string page) =>
        $"""
        with page as materialized ({page}),
        alias_counts as (
            select a.vendor_id, count(*) as n from vendor_aliases a where a.vendor_id in (select id from page) group by a.vendor_id),
        open_counts as (
            select i.vendor_id, count(*) as n
            from invoices i join exceptions e on e.tenant_id = i.tenant_id and e.invoice_id = i.id
            where i.vendor_id in (select id from page) and e.status in ('open', 'in_review')
            group by i.vendor_id)
        select v.id as Id, v.vendor_code as VendorCode, v.name as Name, v.tax_id_encrypted as TaxIdEncrypted, v.country as Country,
               v.currency as Currency, v.email_encrypted as EmailEncrypted, v.payment_terms as PaymentTerms,
               coalesce(ac.n, 0) as AliasCount, coalesce(oc.n, 0) as OpenExceptionCount,
               (select m.vendor_code from vendors m where m.id = v.merged_into) as MergedIntoCode
        from page v
        left join alias_counts ac on ac.vendor_id = v.id
        left join open_counts oc on oc.vendor_id = v.id
        order by v.vendor_code collate "C"
        """;

    // Vendors merged into another are the survivor's aliases now, not vendors of the list.
    // A vendor matches when the text occurs in its code, its name or any name it has been seen under, or when the text is
    // its tax id however written (the tax id itself is sealed, so there is no substring search in it) (the blind index of the normalised tax id: "gb 123-456" finds GB123456).
    private const string Matches =
        """
        v.merged_into is null and (@pattern is null or v.vendor_code ilike @pattern or v.name ilike @pattern
         or exists (select 1 from vendor_aliases a where a.vendor_id = v.id and a.value ilike @pattern)
         or v.tax_id_index = @taxIdIndex)
        """;

    /// <summary>Vendors in code order after <paramref name="afterCode"/>, with the total matching <paramref name="query"/>.</summary>
    public async Task<VendorPage> ListAsync(Guid tenantId, string? query, string? afterCode, int pageSize, CancellationToken cancellationToken)
    {
        var pattern = string.IsNullOrWhiteSpace(query) ? null : $"%{EscapeLike(query.Trim())}%";
        var taxIdIndex = pattern is null ? null : (await personalDataKeys.IndexAsync(cancellationToken)).OfTaxId(query);
        var data = await personalDataKeys.DataAsync(cancellationToken);
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        // SQL: the page is the materialised CTE of SelectPage (see there).
        var rows = (await unitOfWork.Db.QueryToListAsync<SealedVendorRow>(
            SelectPage($"""
                select v.* from vendors v
                where {Matches} and (@afterCode is null or v.vendor_code > @afterCode collate "C")
                order by v.vendor_code collate "C"
                limit @limit
                """), new { pattern, taxIdIndex, afterCode, limit = pageSize + 1 }, cancellationToken)).ToList();
        // SQL: the same text filter as the page (Matches), counted.
        var total = await unitOfWork.Db.ExecuteAsync<long>(
            $"select count(*) from vendors v where {Matches}", new { pattern, taxIdIndex }, cancellationToken);
        return new VendorPage(rows.Take(pageSize).Select(row => row.Open(data, tenantId)).ToList(), rows.Count > pageSize, total);
    }

    /// <summary>The vendor with its aliases, oldest first, and the merges into it, newest first; null when the tenant has no vendor of that code.</summary>
    public async Task<(VendorRow Vendor, IReadOnlyList<VendorAliasRow> Aliases, IReadOnlyList<VendorMergeView> Merges)?> FindAsync(Guid tenantId, string vendorCode, CancellationToken cancellationToken)
    {
        var data = await personalDataKeys.DataAsync(cancellationToken);
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        // SQL: one vendor through the same materialised CTE as the page, for the same counts.
        var found = (await unitOfWork.Db.QueryToListAsync<SealedVendorRow>(
            SelectPage("select v.* from vendors v where v.vendor_code = @vendorCode"), new { vendorCode }, cancellationToken)).SingleOrDefault();
        if (found is null)
        {
            return null;
        }

        var vendor = found.Open(data, tenantId);

        var aliases = await unitOfWork.Db.GetTable<VendorAliasTableRow>()
            .Where(alias => alias.VendorId == vendor.Id)
            .OrderBy(alias => alias.CreatedAt).ThenBy(alias => alias.Kind).ThenBy(alias => alias.Value)
            .Select(alias => new VendorAliasRow(alias.Kind, alias.Value, alias.Source, alias.CreatedAt, alias.Decision, alias.CreatedBy, alias.InvoiceId))
            .ToListAsync(cancellationToken);
        return (vendor, aliases, await VendorMerges.OfVendorAsync(unitOfWork, vendor.Id, cancellationToken));
    }

    private static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);
}
