using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;

namespace Invisible.Data.Imports;

/// <summary>
/// The tenant's vendor master and current purchase order lines, looked up one set-based query per batch inside the
/// import's own unit of work (row-level security keeps the look-ups within the tenant). <paramref name="beforeQuery"/>
/// frees the connection first, e.g. ends a COPY that is still open on it.
/// </summary>
public sealed class PostgresReferenceData(TenantUnitOfWork unitOfWork, Func<CancellationToken, Task>? beforeQuery = null) : IReferenceData
{
    public async Task<IReadOnlySet<string>> FindVendorCodesAsync(IReadOnlyCollection<string> vendorCodes, CancellationToken cancellationToken)
    {
        await FreeConnectionAsync(cancellationToken);
        // SQL: = any(array) binds one parameter for the batch, where LINQ's Contains would bind one per code.
        var found = await unitOfWork.QueryAsync(
            reader => reader.GetString(0),
            "select vendor_code from vendors where tenant_id = @tenantId and vendor_code = any(@codes)",
            new { tenantId = unitOfWork.TenantId, codes = vendorCodes.ToArray() },
            cancellationToken);
        return found.ToHashSet(StringComparer.Ordinal);
    }

    public async Task<IReadOnlySet<PurchaseOrderLineKey>> FindPurchaseOrderLinesAsync(
        IReadOnlyCollection<PurchaseOrderLineKey> lines,
        CancellationToken cancellationToken)
    {
        await FreeConnectionAsync(cancellationToken);
        // SQL: joins against unnest() of the batch's keys, which LINQ cannot say.
        var found = await unitOfWork.QueryAsync(
            reader => (PoNumber: reader.GetString(0), LineNo: reader.GetInt32(1)),
            """
            select p.po_number, l.line_no
            from unnest(@poNumbers, @lineNumbers) as wanted(po_number, line_no)
            join purchase_orders p on p.tenant_id = @tenantId and p.po_number = wanted.po_number and p.superseded_at is null
            join purchase_order_lines l on l.tenant_id = @tenantId and l.purchase_order_id = p.id and l.line_no = wanted.line_no
            """,
            new
            {
                tenantId = unitOfWork.TenantId,
                poNumbers = lines.Select(line => line.PoNumber).ToArray(),
                lineNumbers = lines.Select(line => line.LineNo).ToArray(),
            },
            cancellationToken);
        return found.Select(line => new PurchaseOrderLineKey(line.PoNumber, line.LineNo)).ToHashSet();
    }

    private Task FreeConnectionAsync(CancellationToken cancellationToken) => beforeQuery?.Invoke(cancellationToken) ?? Task.CompletedTask;
}
