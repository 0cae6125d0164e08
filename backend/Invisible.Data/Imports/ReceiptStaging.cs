using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Ingestion.Canonical;
using Npgsql;
using NpgsqlTypes;

namespace Invisible.Data.Imports;

internal sealed class ReceiptStaging : IImportStaging<ReceiptRow>
{
    public string CreateTableSql => """
        create temp table import_stage (
            source_line integer not null, receipt_number text not null, po_number text not null, po_line_no integer not null,
            received_date date not null, quantity_received numeric(19,4) not null) on commit drop
        """;

    public string CopySql => "copy import_stage (source_line, receipt_number, po_number, po_line_no, received_date, quantity_received) from stdin (format binary)";

    public async Task WriteAsync(NpgsqlBinaryImporter importer, ReceiptRow row, CancellationToken cancellationToken)
    {
        await importer.StartRowAsync(cancellationToken);
        await importer.WriteAsync(row.SourceLine, NpgsqlDbType.Integer, cancellationToken);
        await importer.WriteTextAsync(row.ReceiptNumber, cancellationToken);
        await importer.WriteTextAsync(row.PoNumber, cancellationToken);
        await importer.WriteAsync(row.PoLineNo, NpgsqlDbType.Integer, cancellationToken);
        await importer.WriteAsync(row.ReceivedDate, NpgsqlDbType.Date, cancellationToken);
        await importer.WriteAsync(row.QuantityReceived, NpgsqlDbType.Numeric, cancellationToken);
    }

    public async Task<ImportMergeSummary> MergeAsync(TenantUnitOfWork unitOfWork, Guid importId, ImportRequest request, CancellationToken cancellationToken)
    {
        var parameters = new { tenantId = unitOfWork.TenantId, importId };
        // SQL: a set-based upsert from the staging table (insert ... select ... on conflict do nothing).
        await unitOfWork.ExecuteAsync(
            """
            insert into receipts (tenant_id, receipt_number, import_id)
            select distinct @tenantId, receipt_number, @importId::uuid from import_stage
            on conflict (tenant_id, receipt_number) do nothing
            """, parameters, cancellationToken);

        // Natural key receipt_number + po_number + po_line_no: a corrected receipt line replaces its earlier values.
        // SQL: a set-based merge that counts inserted and updated rows (insert ... on conflict do update returning xmax).
        var merged = (await unitOfWork.QueryAsync(
            reader => (Inserted: reader.GetInt64(0), Updated: reader.GetInt64(1)),
            """
            with merged as (
            insert into receipt_lines as r (tenant_id, receipt_id, po_number, po_line_no, purchase_order_line_id, received_date, quantity_received, source_line)
            select @tenantId, receipt.id, s.po_number, s.po_line_no, line.id, s.received_date, s.quantity_received, s.source_line
            from import_stage s
            join receipts receipt on receipt.tenant_id = @tenantId and receipt.receipt_number = s.receipt_number
            left join purchase_orders po on po.tenant_id = @tenantId and po.po_number = s.po_number and po.superseded_at is null
            left join purchase_order_lines line on line.tenant_id = @tenantId and line.purchase_order_id = po.id and line.line_no = s.po_line_no
            on conflict (tenant_id, receipt_id, po_number, po_line_no) do update
                set purchase_order_line_id = excluded.purchase_order_line_id, received_date = excluded.received_date,
                    quantity_received = excluded.quantity_received, source_line = excluded.source_line
                where (r.purchase_order_line_id, r.received_date, r.quantity_received)
                      is distinct from (excluded.purchase_order_line_id, excluded.received_date, excluded.quantity_received)
            returning xmax = 0 as inserted)
            select count(*) filter (where inserted), count(*) filter (where not inserted) from merged
            """, parameters, cancellationToken)).Single();
        var total = await ImportStaging.CountStagedAsync(unitOfWork, cancellationToken);
        return new ImportMergeSummary(merged.Inserted, merged.Updated, total - merged.Inserted - merged.Updated);
    }
}
