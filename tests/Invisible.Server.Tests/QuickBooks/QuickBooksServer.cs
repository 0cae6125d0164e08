using Invisible.Testing.QuickBooks;
using Invisible.Ingestion;
using Invisible.Server.QuickBooks;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.QuickBooks;

/// <summary>The real product pointed at a <see cref="StandInQuickBooks"/> (its endpoints, OAuth client and verifier token).</summary>
public sealed class QuickBooksServer : AccountsServer, IAsyncLifetime
{
    // Started before the product, whose settings name its address.
    public StandInQuickBooks StandIn { get; } = StandInQuickBooks.StartAsync().GetAwaiter().GetResult();

    protected override IEnumerable<string> Settings => [.. base.Settings, .. StandIn.ProductSettings];

    public T Get<T>()
        where T : notnull => Server.Services.GetRequiredService<T>();

    Task IAsyncLifetime.InitializeAsync()
    {
        // The product's clock moves by hand (TOTP steps); the change-data-capture window is computed on it.
        StandIn.Clock = Clock;
        return InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await StandIn.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class QuickBooksCollection : ICollectionFixture<QuickBooksServer>
{
    public const string Name = "quickbooks";
}

/// <summary>A tenant with vendor V1 (Acme Supplies Ltd, GB123456, NET30), PO-1 received in full, and a stand-in company whose vendor and PurchaseOrder match.</summary>
internal sealed class QuickBooksTenant
{
    private QuickBooksTenant(QuickBooksServer server, QueueTenant queue, string realmId, string refreshToken) =>
        (Server, Queue, RealmId, RefreshToken) = (server, queue, realmId, refreshToken);

    public QuickBooksServer Server { get; }

    public QueueTenant Queue { get; }

    public Guid TenantId => Queue.Tenant.Id;

    public string RealmId { get; }

    /// <summary>The refresh token an operator pastes into <c>quickbooks connect</c>.</summary>
    public string RefreshToken { get; }

    public StandInQuickBooks.Company Company => Server.StandIn.Companies[RealmId];

    public string VendorId { get; private set; } = "";

    public string PurchaseOrderId { get; private set; } = "";

    public static async Task<QuickBooksTenant> CreateAsync(QuickBooksServer server, bool vendorInQuickBooks = true)
    {
        var queue = await QueueTenant.CreateAsync(server, "vendor_code,name,tax_id,payment_terms\nV1,Acme Supplies Ltd,GB 123 456,NET30\n");
        var realmId = "9130" + Random.Shared.NextInt64(100_000_000, 999_999_999);
        var tenant = new QuickBooksTenant(server, queue, realmId, server.StandIn.NewCompany(realmId));
        if (vendorInQuickBooks)
        {
            tenant.VendorId = tenant.Company.Add("Vendor", new() { ["DisplayName"] = "ACME Supplies Ltd" })["Id"]!.GetValue<string>();
        }

        tenant.PurchaseOrderId = tenant.Company.Add("PurchaseOrder", new() { ["DocNumber"] = "PO-1" })["Id"]!.GetValue<string>();
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,P-A4,Paper A4,10,10.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,10\n");
        return tenant;
    }

    /// <summary>Connects as <c>quickbooks connect --expense-account 1</c> does (account 1 is the stand-in's Office Expenses).</summary>
    public Task ConnectAsync(bool createMissingVendors = false) => Server.Get<QuickBooksConnections>()
        .ConnectWithRefreshTokenAsync(TenantId, RealmId, RefreshToken, "tester", CancellationToken.None, "1", createMissingVendors);

    /// <summary>Imports invoice <paramref name="number"/> for PO-1 (10 × 10.00) and waits until it is decided.</summary>
    public async Task ImportMatchedInvoiceAsync(string number = "A-1")
    {
        await Queue.ImportAsync(
            DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\n{number},Acme Supplies,2026-01-12,GBP,PO-1,1,P-A4,Paper A4,10,10.00,100.00,100.00\n");
        await Queue.DecidedOnArrivalAsync();
        // The decision's exceptions.changed must have reached the export subscriber, so a test that connects only now
        // controls the export itself rather than racing the subscriber.
        await QueueTenant.EventuallyAsync(
            async () => await Queue.QuerySingleAsync<int>(
                """
                select count(*)::int from outbox o
                where o.topic = 'exceptions.changed'
                  and not exists (select 1 from inbox i where i.event_id = o.id and i.consumer = @consumer)
                """, new { consumer = ExportAfterDecision.Consumer }) == 0,
            "the decision's event reached the QuickBooks export subscriber");
    }

    public Task<QuickBooksExportSummary> ExportAsync() => Server.Get<QuickBooksExporter>().ExportAsync(TenantId, null, CancellationToken.None);

    /// <summary>The invoice's export row; State is null while it has none.</summary>
    public async Task<(string State, string? QboId, string? Reason)> ExportStateAsync(string number = "A-1") =>
        (await Queue.QueryAsync<(string, string?, string?)>(
            "select e.state, e.qbo_id, e.reason from quickbooks_exports e join invoices i on i.id = e.invoice_id where i.invoice_number = @number", new { number }))
        .SingleOrDefault();

    public IReadOnlyList<System.Text.Json.Nodes.JsonObject> Bills => Server.StandIn.Entities(RealmId, "Bill");
}
