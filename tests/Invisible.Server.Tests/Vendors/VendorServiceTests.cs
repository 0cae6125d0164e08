using System.Text;
using LinqToDB.Data;
using Invisible.Contracts.Vendors.V1;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Grpc.Core;
using Invisible.Server.Imports;
using Invisible.Server.Matching;
using Invisible.Server.Tests.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.Vendors;

/// <summary>The VendorService over real h2c gRPC, on vendors imported and reconciled by the product itself.</summary>
[Collection(AccountsCollection.Name)]
public sealed class VendorServiceTests(AccountsServer server)
{
    private static Google.Protobuf.Reflection.MethodDescriptor Method(string name) => VendorsReflection.Descriptor.Services[0].FindMethodByName(name);

    [Fact]
    public async Task The_list_pages_in_code_order_counts_aliases_and_open_exceptions_and_finds_vendors_by_alias()
    {
        var tenant = await SuppliedTenantAsync();
        var auditor = await tenant.AddUserAsync(Identity.Roles.Auditor);
        var token = (await tenant.FullSessionAsync(auditor)).AccessToken;

        var first = (await tenant.CallAsync(Method("ListVendors"), new ListVendorsRequest { PageSize = 2 }, token)).As<ListVendorsResponse>();
        var second = (await tenant.CallAsync(Method("ListVendors"), new ListVendorsRequest { PageSize = 2, PageToken = first.NextPageToken }, token))
            .As<ListVendorsResponse>();
        var byAlias = (await tenant.CallAsync(Method("ListVendors"), new ListVendorsRequest { Query = "supplies (uk" }, token)).As<ListVendorsResponse>();
        var byName = (await tenant.CallAsync(Method("ListVendors"), new ListVendorsRequest { Query = "NUT" }, token)).As<ListVendorsResponse>();
        var wildcard = (await tenant.CallAsync(Method("ListVendors"), new ListVendorsRequest { Query = "%" }, token)).As<ListVendorsResponse>();

        Assert.Equal(["V1", "V2"], first.Vendors.Select(vendor => vendor.VendorCode));
        Assert.Equal(3, first.TotalCount);
        Assert.Equal(["V3"], second.Vendors.Select(vendor => vendor.VendorCode));
        Assert.Equal(string.Empty, second.NextPageToken);
        var acme = first.Vendors[0];
        Assert.Equal(("Acme Supplies Ltd", "GB123456789", "GB", "GBP", 1, 1), (acme.Name, acme.TaxId, acme.Country, acme.Currency, acme.AliasCount, acme.OpenExceptionCount));
        Assert.Equal((0, 0), (first.Vendors[1].AliasCount, first.Vendors[1].OpenExceptionCount));
        Assert.Equal(["V1"], byAlias.Vendors.Select(vendor => vendor.VendorCode));
        Assert.Equal(["V2"], byName.Vendors.Select(vendor => vendor.VendorCode));
        Assert.Empty(wildcard.Vendors);
    }

    [Fact]
    public async Task A_vendor_shows_its_details_and_aliases_and_an_unknown_code_is_VENDOR_NOT_FOUND()
    {
        var tenant = await SuppliedTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;

        var acme = (await tenant.CallAsync(Method("GetVendor"), new GetVendorRequest { VendorCode = "V1" }, token)).As<VendorDetail>();
        var unknown = await tenant.CallAsync(Method("GetVendor"), new GetVendorRequest { VendorCode = "V404" }, token);
        var empty = await tenant.CallAsync(Method("GetVendor"), new GetVendorRequest(), token);

        Assert.Equal(("V1", "ap@acme.example", "NET30"), (acme.Vendor.VendorCode, acme.Email, acme.PaymentTerms));
        var alias = Assert.Single(acme.Aliases);
        Assert.Equal(("name", "ACME Supplies (UK)", "reviewer"), (alias.Kind, alias.Value, alias.Source));
        Assert.NotNull(alias.CreatedAt);
        Assert.Equal((StatusCode.NotFound, "VENDOR_NOT_FOUND"), (unknown.Status, unknown.Reason));
        Assert.Equal(StatusCode.InvalidArgument, empty.Status);
    }

    [Theory]
    [InlineData(201, "")]
    [InlineData(-1, "")]
    [InlineData(10, "not!a token")]
    public async Task An_invalid_page_size_or_token_is_INVALID_ARGUMENT(int pageSize, string pageToken)
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;

        var reply = await tenant.CallAsync(Method("ListVendors"), new ListVendorsRequest { PageSize = pageSize, PageToken = pageToken }, token);

        Assert.Equal(StatusCode.InvalidArgument, reply.Status);
    }

    [Fact]
    public async Task Possible_duplicates_list_vendors_of_one_company_with_the_evidence_and_the_model_card_names_the_active_version()
    {
        var tenant = await SuppliedTenantAsync();
        await ImportAsync(tenant, DocumentKind.Vendors, "vendor_code,name,tax_id\nV4,ACME SUPPLIES LIMITED,GB 123 456 789\n");
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;

        var duplicates = (await tenant.CallAsync(Method("ListDuplicateClusters"), new ListDuplicateClustersRequest(), token)).As<ListDuplicateClustersResponse>();
        var model = (await tenant.CallAsync(Method("GetMatchingModel"), new GetMatchingModelRequest(), token)).As<MatchingModel>();

        var cluster = Assert.Single(duplicates.Clusters);
        Assert.Equal(["V1", "V4"], cluster.Vendors.Select(vendor => vendor.VendorCode));
        Assert.Contains("the same tax id", Assert.Single(cluster.Pairs).Evidence);
        Assert.True(model.Version >= 1 && model.TrainingPairs > 0, model.ToString());
    }

    [Fact]
    public async Task Retrain_now_trains_a_new_version_on_the_name_people_confirmed_with_held_back_figures_and_only_when_something_changed()
    {
        // The reconcile trained version 1; the reviewer's name for V1 came after it.
        var tenant = await SuppliedTenantAsync();
        var admin = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var clerk = (await tenant.FullSessionAsync(await tenant.AddUserAsync(Identity.Roles.Clerk))).AccessToken;

        var refused = await tenant.CallAsync(Method("RetrainMatchingModel"), new RetrainMatchingModelRequest(), clerk);
        var retrained = (await tenant.CallAsync(Method("RetrainMatchingModel"), new RetrainMatchingModelRequest(), admin)).As<RetrainMatchingModelResponse>();
        var again = (await tenant.CallAsync(Method("RetrainMatchingModel"), new RetrainMatchingModelRequest(), admin)).As<RetrainMatchingModelResponse>();
        var card = (await tenant.CallAsync(Method("GetMatchingModel"), new GetMatchingModelRequest(), clerk)).As<MatchingModel>();

        var model = retrained.Model;
        Assert.True(
            refused.Status == StatusCode.PermissionDenied && retrained.TrainedNow && model.Version == 2 && model.ReviewerPairs == 1 &&
            model.HeldBackPairs > 0 && model.HasHeldBackPrecision && model.HasHeldBackRecall && !again.TrainedNow && card.Equals(model),
            $"clerk: {refused.Status}; retrained: {retrained}; again: {again}; card: {card}");
    }

    /// <summary>Three vendors; V1 with a learned alias and an open quantity-variance exception from a real reconcile.</summary>
    private async Task<TestTenant> SuppliedTenantAsync()
    {
        var tenant = await server.NewTenantAsync();
        await ImportAsync(tenant, DocumentKind.Vendors,
            "vendor_code,name,tax_id,email,country,currency,payment_terms\n" +
            "V3,Zeta Paper Co,,,US,USD,\nV1,Acme Supplies Ltd,GB123456789,ap@acme.example,GB,GBP,NET30\nV2,Bolt & Nut GmbH,,,DE,EUR,\n");
        await ImportAsync(tenant, DocumentKind.PurchaseOrders,
            "po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price\nPO-7,V1,2026-01-05,GBP,1,T-26A,Toner 26A,4,80.00\n");
        await ImportAsync(tenant, DocumentKind.Receipts,
            "receipt_number,po_number,po_line_no,received_date,quantity_received\nGR-7,PO-7,1,2026-01-10,3\n");
        await ImportAsync(tenant, DocumentKind.Invoices,
            "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total\n" +
            "A-1,Acme Supplies,2026-01-12,GBP,PO 7,1,T-26A,Toner 26A,4,80.00,320.00,320.00\n");
        await server.Server.Services.GetRequiredService<InvoiceMatching>().ReconcileAsync(tenant.Id, "tester", null, CancellationToken.None);
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        await unitOfWork.Db.ExecuteAsync(
            """
            insert into vendor_aliases (tenant_id, vendor_id, kind, value, normalized_value, source, created_by)
            select tenant_id, id, 'name', 'ACME Supplies (UK)', 'acme supplies uk', 'reviewer', 'tester' from vendors where vendor_code = 'V1'
            """, CancellationToken.None);
        await unitOfWork.CommitAsync(CancellationToken.None);
        return tenant;
    }

    private async Task ImportAsync(TestTenant tenant, DocumentKind kind, string content)
    {
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        var outcome = await server.Server.Services.GetRequiredService<ImportService>().ImportAsync(
            tenant.Id, new ImportRequest(kind, $"{kind}.csv", ImportSource.Cli, "tester", null), stream, new ImportOptions(), null, CancellationToken.None);
        Assert.True(outcome.Kind == ImportOutcomeKind.Stored, string.Join('\n', outcome.Parse.Errors));
    }
}
