using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Ingestion.Canonical;
using Npgsql;
using NpgsqlTypes;

namespace Invisible.Data.Imports;

/// <summary>
/// Invoices are staged with their invoice id already assigned: the reader numbers the invoices of the file
/// (<see cref="InvoiceLineRow.InvoicePosition"/>, copies of a re-sent invoice included) and the first row of each carries
/// its header, so the merge is two plain INSERT … SELECTs with no sort and no join. Ids are version 7 (time-ordered), so
/// that a million new rows append to the primary key indexes instead of splitting pages all over them. One instance per file.
/// </summary>
internal sealed class InvoiceStaging : IImportStaging<InvoiceLineRow>
{
    // Indexed by InvoicePosition - 1; version 7 ids keep the primary key index appending instead of splitting pages.
    private readonly List<Guid> _invoiceIds = [];

    public string CreateTableSql => """
        create temp table import_stage (
            invoice_id uuid not null, line_id uuid not null, invoice_position integer not null, is_first_row boolean not null,
            source_line integer not null, invoice_number text not null, vendor_name text not null, vendor_tax_id text,
            invoice_date date not null, currency text not null, po_number text, line_no integer not null, sku text,
            description text not null, quantity numeric(19,4) not null, unit_price numeric(19,4) not null,
            line_amount numeric(19,4) not null, tax_amount numeric(19,4) not null, invoice_total numeric(19,4) not null) on commit drop
        """;

    public string CopySql => "copy import_stage (invoice_id, line_id, invoice_position, is_first_row, source_line, invoice_number, vendor_name, vendor_tax_id, invoice_date, currency, po_number, line_no, sku, description, quantity, unit_price, line_amount, tax_amount, invoice_total) from stdin (format binary)";

    public async Task WriteAsync(NpgsqlBinaryImporter importer, InvoiceLineRow row, CancellationToken cancellationToken)
    {
        var isFirstRow = row.InvoicePosition == _invoiceIds.Count + 1;
        if (isFirstRow)
        {
            _invoiceIds.Add(Guid.CreateVersion7());
        }

        await importer.StartRowAsync(cancellationToken);
        await importer.WriteAsync(_invoiceIds[row.InvoicePosition - 1], NpgsqlDbType.Uuid, cancellationToken);
        await importer.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, cancellationToken);
        await importer.WriteAsync(row.InvoicePosition, NpgsqlDbType.Integer, cancellationToken);
        await importer.WriteAsync(isFirstRow, NpgsqlDbType.Boolean, cancellationToken);
        await importer.WriteAsync(row.SourceLine, NpgsqlDbType.Integer, cancellationToken);
        await importer.WriteTextAsync(row.InvoiceNumber, cancellationToken);
        await importer.WriteTextAsync(row.VendorName, cancellationToken);
        await importer.WriteTextAsync(row.VendorTaxId, cancellationToken);
        await importer.WriteAsync(row.InvoiceDate, NpgsqlDbType.Date, cancellationToken);
        await importer.WriteTextAsync(row.Currency, cancellationToken);
        await importer.WriteTextAsync(row.PoNumber, cancellationToken);
        await importer.WriteAsync(row.LineNo, NpgsqlDbType.Integer, cancellationToken);
        await importer.WriteTextAsync(row.Sku, cancellationToken);
        await importer.WriteTextAsync(row.Description, cancellationToken);
        await importer.WriteAsync(row.Quantity, NpgsqlDbType.Numeric, cancellationToken);
        await importer.WriteAsync(row.UnitPrice, NpgsqlDbType.Numeric, cancellationToken);
        await importer.WriteAsync(row.LineAmount, NpgsqlDbType.Numeric, cancellationToken);
        await importer.WriteAsync(row.TaxAmount, NpgsqlDbType.Numeric, cancellationToken);
        await importer.WriteAsync(row.InvoiceTotal, NpgsqlDbType.Numeric, cancellationToken);
    }

    public async Task<ImportMergeSummary> MergeAsync(TenantUnitOfWork unitOfWork, Guid importId, ImportRequest request, CancellationToken cancellationToken)
    {
        var parameters = new { tenantId = unitOfWork.TenantId, importId };

        // An invoice is identified by the vendor name as printed, its number and where it came from (this import and its
        // position in the file): a supplier who sends the same invoice twice, in one file or two, yields two invoices, which
        // the matching engine flags as a duplicate. Its header is taken from its first row.
        // SQL: a set-based merge from the staging table (insert ... select).
        await unitOfWork.ExecuteAsync(
            $"""
            insert into invoices (id, tenant_id, import_id, import_position, invoice_number, invoice_number_normalized, printed_vendor_name,
                                  printed_vendor_tax_id, printed_po_number, invoice_date, currency, invoice_total)
            select invoice_id, @tenantId, @importId, invoice_position, invoice_number,
                   {ImportStaging.NormalizedInvoiceNumberSql("invoice_number")},
                   vendor_name, vendor_tax_id, po_number, invoice_date, currency, invoice_total
            from import_stage
            where is_first_row
            """, parameters, cancellationToken);
        // SQL: a set-based merge from the staging table (insert ... select).
        var lines = await unitOfWork.ExecuteAsync(
            """
            insert into invoice_lines (id, tenant_id, invoice_id, line_no, sku, description, quantity, unit_price, line_amount, tax_amount, source_line)
            select line_id, @tenantId, invoice_id, line_no, sku, description, quantity, unit_price, line_amount, tax_amount, source_line
            from import_stage
            """, parameters, cancellationToken);
        return new ImportMergeSummary(lines, 0, 0);
    }
}
