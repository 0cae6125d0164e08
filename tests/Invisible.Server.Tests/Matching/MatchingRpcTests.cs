using System.Text;
using Invisible.Contracts.Matching.V1;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Grpc.Core;
using Invisible.Server.Imports;
using Invisible.Server.Tests.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.Matching;

/// <summary>The MatchingService over real h2c gRPC, signed in as a tenant's people.</summary>
[Collection(AccountsCollection.Name)]
public sealed class MatchingRpcTests(AccountsServer server)
{
    private static Google.Protobuf.Reflection.MethodDescriptor Method(string name) => MatchingReflection.Descriptor.Services[0].FindMethodByName(name);

    [Fact]
    public async Task A_clerk_reconciles_over_grpc_and_the_invoice_page_shows_po_line_received_and_invoiced_with_explanations()
    {
        var tenant = await server.NewTenantAsync();
        await ImportAsync(tenant, DocumentKind.Vendors, "vendor_code,name\nV1,Acme Supplies Ltd\n");
        await ImportAsync(tenant, DocumentKind.PurchaseOrders,
            "po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price\nPO-7,V1,2026-01-05,GBP,1,T-26A,Toner 26A,4,80.00\n");
        await ImportAsync(tenant, DocumentKind.Receipts,
            "receipt_number,po_number,po_line_no,received_date,quantity_received\nGR-7,PO-7,1,2026-01-10,3\n");
        await ImportAsync(tenant, DocumentKind.Invoices,
            "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total\n" +
            "A-1,Acme Supplies,2026-01-12,GBP,PO 7,1,T-26A,Toner 26A,4,80.00,320.00,320.00\n");
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);
        var token = (await tenant.FullSessionAsync(clerk)).AccessToken;

        var reconciled = (await tenant.CallAsync(Method("Reconcile"), new ReconcileRequest(), token)).As<ReconcileResponse>();
        var exceptions = (await tenant.CallAsync(Method("ListInvoices"), new ListInvoicesRequest { Status = InvoiceStatus.Exception }, token))
            .As<ListInvoicesResponse>();
        var detail = (await tenant.CallAsync(Method("GetInvoice"), new GetInvoiceRequest { InvoiceId = exceptions.Invoices.Single().InvoiceId }, token))
            .As<InvoiceDetail>();
        var export = (await tenant.CallAsync(Method("ExportResults"), new ExportResultsRequest(), token)).As<ExportResultsResponse>();

        Assert.Equal(1, reconciled.InvoiceCount);
        Assert.Equal([new StatusCount { Status = InvoiceStatus.Exception, Invoices = 1 }], reconciled.InvoicesByStatus);
        Assert.Equal(("A-1", "V1", "PO-7"), (detail.Summary.InvoiceNumber, detail.Summary.VendorCode, detail.Summary.PoNumber));
        var line = Assert.Single(detail.Lines);
        Assert.Equal(LineStatus.QuantityVariance, line.Status);
        Assert.Equal(("4.0000", "80.0000", "3.0000", "4.0000"),
            (line.PoLine.OrderedQuantity, line.PoLine.UnitPrice, line.PoLine.ReceivedQuantity, line.PoLine.CumulativeInvoicedQuantity));
        Assert.Equal("4.0000", line.InvoicedQuantity);
        Assert.False(string.IsNullOrWhiteSpace(line.Explanation));
        Assert.False(string.IsNullOrWhiteSpace(detail.Explanation));
        Assert.Equal(1, export.RowCount);
        Assert.Equal(
            "invoice_number,vendor_code,invoice_status,line_no,line_status,po_number,po_line_no,source_line\r\nA-1,V1,exception,1,quantity_variance,PO-7,1,2\r\n",
            export.Csv.ToStringUtf8());
    }

    [Fact]
    public async Task Another_tenants_invoice_is_not_found_and_an_auditor_may_read_but_not_reconcile()
    {
        var a = await server.NewTenantAsync();
        var b = await server.NewTenantAsync();
        await ImportAsync(b, DocumentKind.Vendors, "vendor_code,name\nV1,Bolt GmbH\n");
        await ImportAsync(b, DocumentKind.Invoices,
            "invoice_number,vendor_name,invoice_date,currency,line_no,description,quantity,unit_price,line_amount,invoice_total\n" +
            "B-1,Bolt GmbH,2026-01-12,EUR,1,Bolts,1,1.00,1.00,1.00\n");
        var tokenOfB = (await b.FullSessionAsync(b.Admin)).AccessToken;
        var invoiceOfB = (await b.CallAsync(Method("ListInvoices"), new ListInvoicesRequest(), tokenOfB)).As<ListInvoicesResponse>().Invoices.Single();
        var auditor = await a.AddUserAsync(Identity.Roles.Auditor);
        var auditorToken = (await a.FullSessionAsync(auditor)).AccessToken;

        var lookup = await a.CallAsync(Method("GetInvoice"), new GetInvoiceRequest { InvoiceId = invoiceOfB.InvoiceId }, auditorToken);
        var list = await a.CallAsync(Method("ListInvoices"), new ListInvoicesRequest(), auditorToken);
        var reconcile = await a.CallAsync(Method("Reconcile"), new ReconcileRequest(), auditorToken);

        Assert.Equal("B-1", invoiceOfB.InvoiceNumber);
        Assert.Equal((StatusCode.NotFound, "INVOICE_NOT_FOUND"), (lookup.Status, lookup.Reason));
        Assert.Empty(list.As<ListInvoicesResponse>().Invoices);
        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (reconcile.Status, reconcile.Reason));
    }

    private async Task ImportAsync(TestTenant tenant, DocumentKind kind, string content)
    {
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        var outcome = await server.Server.Services.GetRequiredService<ImportService>().ImportAsync(
            tenant.Id, new ImportRequest(kind, $"{kind}.csv", ImportSource.Cli, "tester", null), stream, new ImportOptions(), null, CancellationToken.None);
        Assert.True(outcome.Kind == ImportOutcomeKind.Stored, string.Join('\n', outcome.Parse.Errors));
    }
}
