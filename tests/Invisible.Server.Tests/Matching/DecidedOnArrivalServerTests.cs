using Invisible.Contracts.Matching.V1;
using Invisible.Ingestion;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;

namespace Invisible.Server.Tests.Matching;

/// <summary>Decided on arrival through the running product's outbox dispatcher, with no reconcile.</summary>
[Collection(AccountsCollection.Name)]
public sealed class DecidedOnArrivalServerTests(AccountsServer server)
{
    [Fact]
    public async Task An_imported_invoice_is_decided_without_a_reconcile()
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,P-A4,Paper A4,10,10.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,10\n");

        await queue.ImportAsync(DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\nA-1,Acme Supplies,2026-01-12,GBP,PO-1,1,P-A4,Paper A4,10,10.00,100.00,100.00\n");

        await QueueTenant.EventuallyAsync(
            async () => (await queue.InvoiceAsync("A-1")).Status == InvoiceStatus.Matched, "A-1 is matched on arrival");
        Assert.Equal([("matched", "engine")], await queue.DecisionsAsync("A-1"));
    }
}
