using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Ingestion.Canonical;
using Npgsql;
using NpgsqlTypes;

namespace Invisible.Data.Imports;

internal sealed class PurchaseOrderStaging : IImportStaging<PurchaseOrderLineRow>
{
    public string CreateTableSql => """
        create temp table import_stage (
            source_line integer not null, po_number text not null, vendor_code text not null, order_date date not null,
            currency text not null, line_no integer not null, sku text, description text not null,
            quantity numeric(19,4) not null, unit_price numeric(19,4) not null, receipt_required boolean not null) on commit drop
        """;

    public string CopySql => "copy import_stage (source_line, po_number, vendor_code, order_date, currency, line_no, sku, description, quantity, unit_price, receipt_required) from stdin (format binary)";

    public async Task WriteAsync(NpgsqlBinaryImporter importer, PurchaseOrderLineRow row, CancellationToken cancellationToken)
    {
        await importer.StartRowAsync(cancellationToken);
        await importer.WriteAsync(row.SourceLine, NpgsqlDbType.Integer, cancellationToken);
        await importer.WriteTextAsync(row.PoNumber, cancellationToken);
        await importer.WriteTextAsync(row.VendorCode, cancellationToken);
        await importer.WriteAsync(row.OrderDate, NpgsqlDbType.Date, cancellationToken);
        await importer.WriteTextAsync(row.Currency, cancellationToken);
        await importer.WriteAsync(row.LineNo, NpgsqlDbType.Integer, cancellationToken);
        await importer.WriteTextAsync(row.Sku, cancellationToken);
        await importer.WriteTextAsync(row.Description, cancellationToken);
        await importer.WriteAsync(row.Quantity, NpgsqlDbType.Numeric, cancellationToken);
        await importer.WriteAsync(row.UnitPrice, NpgsqlDbType.Numeric, cancellationToken);
        await importer.WriteAsync(row.ReceiptRequired, NpgsqlDbType.Boolean, cancellationToken);
    }

    public async Task<ImportMergeSummary> MergeAsync(TenantUnitOfWork unitOfWork, Guid importId, ImportRequest request, CancellationToken cancellationToken)
    {
        var parameters = new { tenantId = unitOfWork.TenantId, importId, actor = request.Actor, requestId = request.RequestId };

        // The plan: every PO of the file that is new, or differs from its current version in header or lines. A PO sent
        // again unchanged keeps its version, so re-sending a whole PO export replaces only what changed.
        // SQL: DDL and ANALYZE of the staging table have no LINQ form.
        await unitOfWork.ExecuteAsync("create index on import_stage (po_number); analyze import_stage", null, cancellationToken);
        // SQL: builds the merge plan as a temporary table from a set-based query (create table ... as).
        await unitOfWork.ExecuteAsync(
            """
            create temp table import_po_plan on commit drop as
            with staged as (
                select s.po_number, v.id as vendor_id, s.order_date, s.currency, count(*) as line_count
                from import_stage s
                join vendors v on v.tenant_id = @tenantId and v.vendor_code = s.vendor_code
                group by s.po_number, v.id, s.order_date, s.currency
            )
            select gen_random_uuid() as id, s.po_number, s.vendor_id, s.order_date, s.currency, s.line_count,
                   coalesce(p.version, 0) + 1 as version, p.id as previous_id, p.vendor_id as previous_vendor_id,
                   p.order_date as previous_order_date, p.currency as previous_currency
            from staged s
            left join purchase_orders p on p.tenant_id = @tenantId and p.po_number = s.po_number and p.superseded_at is null
            """, parameters, cancellationToken);
        // SQL: set-based pruning of the plan with a correlated not-exists over the staged lines.
        await unitOfWork.ExecuteAsync(
            """
            delete from import_po_plan plan
            where plan.previous_id is not null
              and (plan.vendor_id, plan.order_date, plan.currency) = (plan.previous_vendor_id, plan.previous_order_date, plan.previous_currency)
              and plan.line_count = (select count(*) from purchase_order_lines l where l.tenant_id = @tenantId and l.purchase_order_id = plan.previous_id)
              and not exists (
                  select 1 from import_stage s
                  left join purchase_order_lines l on l.tenant_id = @tenantId and l.purchase_order_id = plan.previous_id and l.line_no = s.line_no
                  where s.po_number = plan.po_number
                    and (l.id is null or (l.sku, l.description, l.quantity, l.unit_price, l.receipt_required)
                                         is distinct from (s.sku, s.description, s.quantity, s.unit_price, s.receipt_required)))
            """, parameters, cancellationToken);

        // SQL: ANALYZE has no LINQ form.
        await unitOfWork.ExecuteAsync("analyze import_po_plan", null, cancellationToken);
        // SQL: an exists over the temporary plan table, which has no mapping.
        var replacing = await unitOfWork.ScalarAsync<bool>(
            "select exists (select 1 from import_po_plan where previous_id is not null)", null, cancellationToken);
        if (replacing)
        {
            // SQL: a set-based update from the plan table (update ... from).
            await unitOfWork.ExecuteAsync(
                """
                update purchase_orders p set superseded_at = now()
                from import_po_plan plan where p.tenant_id = @tenantId and p.id = plan.previous_id
                """, parameters, cancellationToken);
        }

        // SQL: a set-based merge from the plan (insert ... select).
        await unitOfWork.ExecuteAsync(
            $"""
            insert into purchase_orders (id, tenant_id, po_number, po_number_normalized, version, vendor_id, order_date, currency, import_id)
            select id, @tenantId, po_number, {ImportStaging.NormalizedPoNumberSql("po_number")},
                   version, vendor_id, order_date, currency, @importId
            from import_po_plan
            """, parameters, cancellationToken);
        // SQL: a set-based merge from the staging table joined to the plan (insert ... select).
        await unitOfWork.ExecuteAsync(
            """
            insert into purchase_order_lines (tenant_id, purchase_order_id, line_no, sku, description, quantity, unit_price, receipt_required, source_line)
            select @tenantId, plan.id, s.line_no, s.sku, s.description, s.quantity, s.unit_price, s.receipt_required, s.source_line
            from import_stage s join import_po_plan plan on plan.po_number = s.po_number
            """, parameters, cancellationToken);

        if (replacing)
        {
            // Goods already received against a replaced PO count against its new version's line of the same number.
            // SQL: a set-based update from the plan (update ... from).
            await unitOfWork.ExecuteAsync(
                """
                update receipt_lines r set purchase_order_line_id = l.id
                from import_po_plan plan
                join purchase_order_lines l on l.tenant_id = @tenantId and l.purchase_order_id = plan.id
                where plan.previous_id is not null and r.tenant_id = @tenantId and r.po_number = plan.po_number and r.po_line_no = l.line_no
                """, parameters, cancellationToken);

            // SQL: one audit entry per replaced PO, set-based with jsonb_build_object and jsonb_agg; the trigger chains each row.
            await unitOfWork.ExecuteAsync(
                """
                insert into audit_log (tenant_id, actor, action, entity, entity_id, before, after, request_id)
                select @tenantId, @actor, 'purchase_order.replaced', 'purchase_order', plan.po_number,
                       jsonb_build_object('version', plan.version - 1, 'vendor_id', plan.previous_vendor_id, 'order_date', plan.previous_order_date,
                                          'currency', plan.previous_currency, 'lines',
                                          (select jsonb_agg(jsonb_build_array(l.line_no, l.sku, l.description, l.quantity, l.unit_price, l.receipt_required) order by l.line_no)
                                           from purchase_order_lines l where l.tenant_id = @tenantId and l.purchase_order_id = plan.previous_id)),
                       jsonb_build_object('version', plan.version, 'vendor_id', plan.vendor_id, 'order_date', plan.order_date, 'currency', plan.currency,
                                          'import_id', @importId, 'lines',
                                          (select jsonb_agg(jsonb_build_array(l.line_no, l.sku, l.description, l.quantity, l.unit_price, l.receipt_required) order by l.line_no)
                                           from purchase_order_lines l where l.tenant_id = @tenantId and l.purchase_order_id = plan.id)),
                       @requestId
                from import_po_plan plan where plan.previous_id is not null
                order by plan.po_number
                """, parameters, cancellationToken);
        }

        // SQL: aggregates over the temporary plan table with filter clauses.
        var plan = (await unitOfWork.QueryAsync(
            reader => (Inserted: reader.GetInt64(0), Updated: reader.GetInt64(1), Replaced: reader.GetInt64(2)),
            """
            select coalesce(sum(line_count) filter (where previous_id is null), 0)::bigint,
                   coalesce(sum(line_count) filter (where previous_id is not null), 0)::bigint,
                   count(*) filter (where previous_id is not null)
            from import_po_plan
            """, null, cancellationToken)).Single();
        var total = await ImportStaging.CountStagedAsync(unitOfWork, cancellationToken);
        return new ImportMergeSummary(plan.Inserted, plan.Updated, total - plan.Inserted - plan.Updated, plan.Replaced);
    }
}
