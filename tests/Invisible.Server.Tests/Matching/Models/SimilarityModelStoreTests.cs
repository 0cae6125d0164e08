using Invisible.Server.Tests.FieldEncryption;
using System.Text;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Reconciliation.Similarity;
using Invisible.Server.Imports;
using Invisible.Server.Matching;
using Invisible.Server.Matching.Models;
using Invisible.Testing;
using LinqToDB;
using LinqToDB.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tests.Matching.Models;

public sealed class SimilarityModelStoreTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IDisposable
{
    private const string Vendors = """
        vendor_code,name,tax_id
        V1,Acme Holdings Inc,US-11
        V2,Beacon Facility Services GmbH,DE-22
        V3,Bluewater Hardware Corporation,
        V4,Summit Industrial Supply Ltd,GB-44
        """;

    private const string PurchaseOrders = """
        po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price
        PO-1,V3,2026-01-05,USD,1,BW-1,Hex bolts M8,10,2.00
        """;

    private const string Receipts = """
        receipt_number,po_number,po_line_no,received_date,quantity_received
        GR-1,PO-1,1,2026-01-10,10
        """;

    private const string Invoices = """
        invoice_number,vendor_name,vendor_tax_id,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,tax_amount,invoice_total
        INV-1,Bluewater Hardware Corp,,2026-01-12,USD,PO-1,1,BW-1,Hex bolts M8,10,2.00,20.00,0,20.00
        """;

    private readonly TemporaryDirectory _dataDirectory = new("invisible-models-");

    private TestDatabase Database => fixture.Database;

    [Fact]
    public async Task The_same_master_data_trains_the_same_weights_in_any_tenant()
    {
        var first = await TenantWithVendorsAsync();
        var second = await TenantWithVendorsAsync();

        var firstModel = await EnsureActiveAsync(first);
        var secondModel = await EnsureActiveAsync(second);

        Assert.NotNull(firstModel);
        Assert.True(firstModel.TrainedNow);
        Assert.Equal(firstModel.Fingerprint, secondModel!.Fingerprint);
        Assert.Equal(await StoredWeightsAsync(first), await StoredWeightsAsync(second));
        Assert.Equal(firstModel.Model.VendorMatch.Weights, secondModel.Model.VendorMatch.Weights);
        Assert.Equal(firstModel.Model.VendorMatch.Bias, secondModel.Model.VendorMatch.Bias);
    }

    [Fact]
    public async Task A_new_version_is_stored_only_when_the_training_set_changes_and_only_the_newest_is_active()
    {
        var tenant = await TenantWithVendorsAsync();

        var trained = await EnsureActiveAsync(tenant);
        var unchanged = await EnsureActiveAsync(tenant);
        await AddReviewerAliasAsync(tenant, "V3", "Bluewater Hdw");
        var retrained = await EnsureActiveAsync(tenant);
        var loaded = await FindActiveAsync(tenant);

        Assert.Equal(1, trained!.Model.Version);
        Assert.False(unchanged!.TrainedNow);
        Assert.Equal(trained.Id, unchanged.Id);
        Assert.Equal(trained.Model.VendorMatch.Weights, unchanged.Model.VendorMatch.Weights);
        Assert.True(retrained!.TrainedNow);
        Assert.Equal(2, retrained.Model.Version);
        Assert.NotEqual(trained.Fingerprint, retrained.Fingerprint);
        Assert.Equal(retrained.Model.TrainingExamples, trained.Model.TrainingExamples + 1);
        Assert.Equal(retrained.Id, loaded!.Id);
        Assert.Equal(retrained.Model.VendorMatch.Weights, loaded.Model.VendorMatch.Weights);
        Assert.Equal([(1, false), (2, true)], await VersionsAsync(tenant));
    }

    [Fact]
    public async Task The_stored_model_is_an_ML_NET_model_file_that_loads_back_to_the_weights_it_was_trained_to()
    {
        var tenant = await TenantWithVendorsAsync();

        var trained = await EnsureActiveAsync(tenant);
        var stored = SimilarityModel.FromModelFile(1, await StoredModelFileAsync(tenant) ?? [], trained!.Model.TrainingExamples);

        Assert.Equal(
            [.. trained.Model.VendorMatch.Weights, trained.Model.VendorMatch.Bias],
            [.. stored.VendorMatch.Weights, stored.VendorMatch.Bias]);
    }

    [Fact]
    public async Task An_active_model_stored_without_an_ML_NET_model_file_is_retrained_rather_than_used()
    {
        var tenant = await TenantWithVendorsAsync();
        var fingerprint = (await EnsureActiveAsync(tenant))!.Fingerprint;
        await using (var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None))
        {
            // A row as models were stored before ML.NET: weights only, with the current training set's fingerprint.
            await unitOfWork.Db.ExecuteAsync(
                "update similarity_models set model_file = null, metrics = jsonb_build_object('fingerprint', @fingerprint::text) where is_active",
                new DataParameter("fingerprint", fingerprint));
            await unitOfWork.CommitAsync(CancellationToken.None);
        }

        var retrained = await EnsureActiveAsync(tenant);

        Assert.Equal((2, true), (retrained!.Model.Version, retrained.TrainedNow));
    }

    [Fact]
    public async Task A_tenant_with_a_single_vendor_keeps_the_prior_and_stores_nothing()
    {
        var tenant = (await Database.CreateTenantAsync()).Id;
        await ImportAsync(tenant, DocumentKind.Vendors, "vendor_code,name\nV1,Acme Holdings Inc\n");

        Assert.Null(await EnsureActiveAsync(tenant));
        Assert.Empty(await VersionsAsync(tenant));
    }

    [Fact]
    public async Task Reconcile_trains_on_first_use_and_after_a_reviewer_alias_uses_the_alias_at_once_while_retraining_makes_the_next_version()
    {
        var tenant = await TenantWithVendorsAsync();
        await ImportAsync(tenant, DocumentKind.PurchaseOrders, PurchaseOrders);
        await ImportAsync(tenant, DocumentKind.Receipts, Receipts);
        await ImportAsync(tenant, DocumentKind.Invoices, Invoices);
        var matching = new InvoiceMatching(Database.Tenants, TimeProvider.System, NullLogger<InvoiceMatching>.Instance, GeneratedPersonalDataKeys.Instance);

        var first = await matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None);
        var second = await matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None);
        await AddReviewerAliasAsync(tenant, "V3", "Bluewater Hdw");
        var third = await matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None);
        var retrained = await new SimilarityModelRetraining(Database.Tenants, GeneratedPersonalDataKeys.Instance, NullLogger<SimilarityModelRetraining>.Instance).RetrainAsync(tenant, CancellationToken.None);
        var fourth = await matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None);

        Assert.Equal(1, await ModelVersionOfRunAsync(tenant, first.RunId));
        Assert.Equal(1, await ModelVersionOfRunAsync(tenant, second.RunId));
        Assert.Equal(1, await ModelVersionOfRunAsync(tenant, third.RunId));
        Assert.Equal((2, true), (retrained!.Model.Version, retrained.TrainedNow));
        Assert.Equal(2, await ModelVersionOfRunAsync(tenant, fourth.RunId));
        Assert.Equal([(1, false), (2, true)], await VersionsAsync(tenant));
        Assert.Equal(1, third.InvoicesByStatus[Invisible.Reconciliation.Matching.InvoiceStatus.Matched]);
    }

    private async Task<PersistedSimilarityModel?> EnsureActiveAsync(Guid tenant)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        var model = await SimilarityModelStore.EnsureActiveAsync(
            unitOfWork, await GeneratedPersonalDataKeys.Instance.DataAsync(CancellationToken.None), CancellationToken.None, evenForConfirmedNames: true);
        await unitOfWork.CommitAsync(CancellationToken.None);
        return model;
    }

    private async Task<PersistedSimilarityModel?> FindActiveAsync(Guid tenant)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        return await SimilarityModelStore.FindActiveAsync(unitOfWork, CancellationToken.None);
    }

    private async Task<string> StoredWeightsAsync(Guid tenant)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        return await unitOfWork.Db.ExecuteAsync<string>(
            "select weights::text from similarity_models where is_active", CancellationToken.None) ?? "";
    }

    private async Task<byte[]?> StoredModelFileAsync(Guid tenant)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        return await unitOfWork.Db.ExecuteAsync<byte[]?>("select model_file from similarity_models where is_active");
    }

    private async Task<List<(int Version, bool IsActive)>> VersionsAsync(Guid tenant)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        return (await unitOfWork.Db.QueryToListAsync(
            row => (row.GetFieldValue<int>(0), row.GetFieldValue<bool>(1)),
            "select version, is_active from similarity_models where kind = 'vendor_name' order by version", CancellationToken.None)).ToList();
    }

    private async Task<int> ModelVersionOfRunAsync(Guid tenant, Guid runId)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        return await unitOfWork.Db.ExecuteAsync<int>(
            "select distinct (evidence->'vendor'->'evidence'->>'modelVersion')::int from match_decisions where run_id = @runId", new { runId }, CancellationToken.None);
    }

    private async Task AddReviewerAliasAsync(Guid tenant, string vendorCode, string name)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        await unitOfWork.Db.ExecuteAsync(
            """
            insert into vendor_aliases (tenant_id, vendor_id, kind, value, normalized_value, source, created_by)
            select @tenant, id, 'name', @name, lower(@name), 'reviewer', 'tester' from vendors where vendor_code = @vendorCode
            """, new { tenant, vendorCode, name }, CancellationToken.None);
        await unitOfWork.CommitAsync(CancellationToken.None);
    }

    private async Task<Guid> TenantWithVendorsAsync()
    {
        var tenant = (await Database.CreateTenantAsync()).Id;
        await ImportAsync(tenant, DocumentKind.Vendors, Vendors);
        return tenant;
    }

    private async Task ImportAsync(Guid tenant, DocumentKind kind, string content)
    {
        var imports = new ImportService(
            Database.Tenants,
            new FileSystemBlobStore(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path })),
            new ImportSpools(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path })),
            TimeProvider.System,
            NullLogger<ImportService>.Instance,
            GeneratedPersonalDataKeys.Instance);
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        var outcome = await imports.ImportAsync(
            tenant, new ImportRequest(kind, $"{kind}.csv", ImportSource.Cli, "tester", null), stream, new ImportOptions(), null, CancellationToken.None);
        Assert.True(outcome.Kind == ImportOutcomeKind.Stored, string.Join('\n', outcome.Parse.Errors));
    }

    public void Dispose() => _dataDirectory.Dispose();
}
