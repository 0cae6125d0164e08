using Dapper;
using Invisible.Data.Tenancy;
using Invisible.Ingestion.Canonical;
using Npgsql;
using NpgsqlTypes;

namespace Invisible.Data.Imports;

internal sealed class InvoiceStaging : IImportStaging<InvoiceLineRow>
{
    public string CreateTableSql => """
        create temp table import_stage (
            source_line integer not null, invoice_number text not null, vendor_name text not null, vendor_tax_id text,
            invoice_date date not null, currency text not null, po_number text, line_no integer not null, sku text,
            description text not null, quantity numeric(19,4) not null, unit_price numeric(19,4) not null,
            line_amount numeric(19,4) not null, tax_amount numeric(19,4) not null, invoice_total numeric(19,4) not null) on commit drop
        """;

    public string CopySql => "copy import_stage (source_line, invoice_number, vendor_name, vendor_tax_id, invoice_date, currency, po_number, line_no, sku, description, quantity, unit_price, line_amount, tax_amount, invoice_total) from stdin (format binary)";

    public async Task WriteAsync(NpgsqlBinaryImporter importer, InvoiceLineRow row, CancellationToken cancellationToken)
    {
        await importer.StartRowAsync(cancellationToken);
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
        await unitOfWork.ExecuteAsync("analyze import_stage", null, cancellationToken);

        // An invoice is identified by the vendor name as printed, its number and this import: a supplier who sends the same
        // invoice twice in two files yields two invoices, which the matching engine flags as a duplicate. Its header is
        // taken from its first row; import_position is the order of first appearance in the file.
        await unitOfWork.ExecuteAsync(
            """
            create temp table import_invoice_headers on commit drop as
            select gen_random_uuid() as id, row_number() over (order by source_line) as import_position, *
            from (
                select distinct on (vendor_name, invoice_number)
                       vendor_name, invoice_number, vendor_tax_id, invoice_date, currency, po_number, invoice_total, source_line
                from import_stage
                order by vendor_name, invoice_number, source_line
            ) first_rows
            """, parameters, cancellationToken);
        await unitOfWork.ExecuteAsync(
            $"""
            insert into invoices (id, tenant_id, import_id, import_position, invoice_number, invoice_number_normalized, printed_vendor_name,
                                  printed_vendor_tax_id, printed_po_number, invoice_date, currency, invoice_total)
            select id, @tenantId, @importId, import_position, invoice_number,
                   {ImportStaging.NormalizedInvoiceNumberSql("invoice_number")},
                   vendor_name, vendor_tax_id, po_number, invoice_date, currency, invoice_total
            from import_invoice_headers
            """, parameters, cancellationToken);
        var lines = await unitOfWork.ExecuteAsync(
            """
            insert into invoice_lines (tenant_id, invoice_id, line_no, sku, description, quantity, unit_price, line_amount, tax_amount, source_line)
            select @tenantId, h.id, s.line_no, s.sku, s.description, s.quantity, s.unit_price, s.line_amount, s.tax_amount, s.source_line
            from import_stage s
            join import_invoice_headers h on h.vendor_name = s.vendor_name and h.invoice_number = s.invoice_number
            """, parameters, cancellationToken);
        return new ImportMergeSummary(lines, 0, 0);
    }
}
