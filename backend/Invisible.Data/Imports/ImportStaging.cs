using System.Data.Common;
using Invisible.Data.Access;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Ingestion.Canonical;
using Npgsql;
using NpgsqlTypes;

namespace Invisible.Data.Imports;

/// <summary>
/// How one kind of canonical row is staged and merged. Rows are binary-COPied into the temporary table
/// <see cref="ImportStaging.TableName"/> (dropped on commit), and once the whole file is known to be valid a few
/// set-based statements merge the staging table into the tenant's tables.
/// </summary>
internal interface IImportStaging<in TRow>
{
    /// <summary>Creates the staging table; its columns are those of <see cref="WriteAsync"/>, in order.</summary>
    string CreateTableSql { get; }

    string CopySql { get; }

    Task WriteAsync(NpgsqlBinaryImporter importer, TRow row, CancellationToken cancellationToken);

    Task<ImportMergeSummary> MergeAsync(TenantUnitOfWork unitOfWork, Guid importId, ImportRequest request, CancellationToken cancellationToken);
}

internal static class ImportStaging
{
    public const string TableName = "import_stage";

    // FORMATS.md normalisations, done in SQL so merges stay set-based: letters and digits only, upper case, then a
    // leading PO (or INV/INVOICE/NO) and leading zeros ignored.
    public static string NormalizedPoNumberSql(string column) =>
        $"ltrim(regexp_replace(regexp_replace(upper({column}), '[^A-Z0-9]', '', 'g'), '^PO', ''), '0')";

    public static string NormalizedInvoiceNumberSql(string column) =>
        $"ltrim(regexp_replace(regexp_replace(upper({column}), '[^A-Z0-9]', '', 'g'), '^(INVOICE|INV|NO)', ''), '0')";

    /// <param name="vendorSealing">Required for vendor files: they carry personal data, which is only ever staged sealed.</param>
    public static IImportStaging<TRow> For<TRow>(Guid tenantId, IVendorSealing? vendorSealing)
        where TRow : class, ICanonicalRow<TRow> => TRow.Kind switch
        {
            DocumentKind.Vendors => (IImportStaging<TRow>)(object)new VendorStaging(
                vendorSealing ?? throw new InvalidOperationException("Vendor files carry personal data: importing one needs the personal-data keys (IVendorSealing)."),
                tenantId),
            DocumentKind.PurchaseOrders => (IImportStaging<TRow>)(object)new PurchaseOrderStaging(),
            DocumentKind.Receipts => (IImportStaging<TRow>)(object)new ReceiptStaging(),
            DocumentKind.Invoices => (IImportStaging<TRow>)(object)new InvoiceStaging(),
            _ => throw new ArgumentOutOfRangeException(nameof(TRow), TRow.Kind, "No staging for this kind of document."),
        };

    public static Task WriteBytesAsync(this NpgsqlBinaryImporter importer, byte[]? value, CancellationToken cancellationToken) =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, NpgsqlDbType.Bytea, cancellationToken);

    public static Task WriteTextAsync(this NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken) =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    /// <summary>
    /// Merging a file of millions of rows takes longer than Npgsql's default 30 s command timeout; cancellation still
    /// stops it at once.
    /// </summary>
    public const int MergeCommandTimeoutSeconds = 3600;

    public static Task<int> ExecuteAsync(this TenantUnitOfWork unitOfWork, string sql, object? parameters, CancellationToken cancellationToken) =>
        // SQL: executes the staging and merge statements its callers give (each with its own reason) under the merge timeout.
        unitOfWork.Db.WithCommandTimeout(MergeCommandTimeoutSeconds, db => db.ExecuteAsync(sql, parameters ?? NoParameters, cancellationToken));

    /// <summary>A scalar of a staging or merge statement, under <see cref="MergeCommandTimeoutSeconds"/>.</summary>
    public static Task<T> ScalarAsync<T>(this TenantUnitOfWork unitOfWork, string sql, object? parameters, CancellationToken cancellationToken) =>
        // SQL: executes the staging and merge statements its callers give (each with its own reason) under the merge timeout.
        unitOfWork.Db.WithCommandTimeout(MergeCommandTimeoutSeconds, db => db.ExecuteAsync<T>(sql, parameters ?? NoParameters, cancellationToken));

    /// <summary>Rows of a staging or merge statement read by position, under <see cref="MergeCommandTimeoutSeconds"/>.</summary>
    public static Task<List<T>> QueryAsync<T>(
        this TenantUnitOfWork unitOfWork, Func<DbDataReader, T> read, string sql, object? parameters, CancellationToken cancellationToken) =>
        // SQL: executes the staging and merge statements its callers give (each with its own reason) under the merge timeout.
        unitOfWork.Db.WithCommandTimeout(MergeCommandTimeoutSeconds, db => db.QueryToListAsync(read, sql, parameters ?? NoParameters, cancellationToken));

    public static Task<long> CountStagedAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        // SQL: the staging table is a temporary table made per import, which has no mapping.
        unitOfWork.ScalarAsync<long>("select count(*) from import_stage", null, cancellationToken);

    private static readonly object NoParameters = new { };
}
