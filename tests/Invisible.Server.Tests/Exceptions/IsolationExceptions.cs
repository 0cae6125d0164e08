using LinqToDB.Data;
using Invisible.Data.Tenancy;

namespace Invisible.Server.Tests.Exceptions;

/// <summary>For the access matrix: an open exception-queue item of tenant B, on B's invoice, so A's calls can name it.</summary>
internal static class IsolationExceptions
{
    public static async Task<string> InsertOpenExceptionAsync(TenantUnitOfWork unitOfWork, Guid tenantId, string invoiceId) =>
        (await unitOfWork.Db.ExecuteAsync<Guid>(
            """
            with decision as (
                insert into match_decisions (tenant_id, invoice_id, run_id, engine_version, invoice_status, tolerance_id, explanation, evidence)
                select @tenantId, @invoiceId::uuid, gen_random_uuid(), 'test', 'no_po', t.id, '{"text": "No PO"}', '{}'
                from tolerances t where t.vendor_id is null
                returning id
            )
            insert into exceptions (tenant_id, invoice_id, match_decision_id, reason)
            select @tenantId, @invoiceId::uuid, decision.id, 'no_po' from decision
            returning id
            """, new { tenantId, invoiceId }, CancellationToken.None)).ToString();
}
