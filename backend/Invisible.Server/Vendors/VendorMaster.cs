using Invisible.Identity.Encryption;
using Invisible.Server.FieldEncryption;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Vendors;
using Invisible.Server.Matching;
using Invisible.Server.Matching.Models;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.Vendors;

/// <summary>What Settings → Matching model shows of the active vendor-name model.</summary>
public sealed record MatchingModelCard(int Version, int TrainingPairs, int ReviewerPairs, double TrainingAccuracy, DateTime TrainedAt)
{
    /// <summary>Labelled pairs held back from fitting, and the model's precision and recall on them (null: nothing to divide by).</summary>
    public HeldBackEvaluation HeldBack { get; init; } = HeldBackEvaluation.Empty;
}

/// <summary>A printed name an operator says is a vendor (one row of <c>vendors confirm --file</c>).</summary>
public sealed record NameConfirmation(string PrintedName, string VendorCode);

/// <summary>
/// The vendor master's upkeep outside the exception queue: names an operator confirms in bulk, and the duplicate clusters
/// inside the master, scored with the tenant's active similarity model.
/// </summary>
public sealed class VendorMaster(TenantDatabase tenants, TimeProvider time, SimilarityModelRetraining retraining, PersonalDataKeys personalDataKeys)
{
    /// <summary>
    /// Records each name as confirmed for its vendor (decision <c>operator</c>, audited), re-decides the decided invoices
    /// whose outcome changed, then retrains the model (awaited: an operator's batch is not a reviewer's click).
    /// </summary>
    public async Task<(IReadOnlyList<ConfirmedAlias> Confirmed, int Reevaluated, int ModelVersion)> ConfirmAsync(
        Guid tenantId, IReadOnlyList<NameConfirmation> names, string actor, CancellationToken cancellationToken)
    {
        var confirmed = new List<ConfirmedAlias>();
        int reevaluated;
        await using (var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken))
        {
            var redecision = await InvoiceRedecision.BeginAsync(unitOfWork, time, await personalDataKeys.DataAsync(cancellationToken), cancellationToken);
            foreach (var name in names)
            {
                confirmed.Add(await ConfirmedAliases.ConfirmAsync(
                    unitOfWork, name.PrintedName, name.VendorCode, AliasDecisions.Operator, actor, null, null, cancellationToken));
            }

            reevaluated = (await redecision.ReevaluateAsync(actor, new HashSet<Guid>(), eligible: null, cancellationToken)).Count;
            await redecision.RecordAsync(
                new RedecisionAudit(actor, "vendors.confirm", "vendor", string.Join(",", confirmed.Select(alias => alias.VendorCode).Distinct()), Before: null,
                    After: new { confirmed = confirmed.Select(alias => new { alias.PrintedName, alias.VendorCode, alias.Changed }) }, RequestId: null),
                cause: "vendors_confirm", alsoChanged: [], cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
        }

        var model = await retraining.RetrainAsync(tenantId, cancellationToken);
        return (confirmed, reevaluated, model?.Model.Version ?? 0);
    }

    /// <summary>
    /// The tenant's duplicate clusters among the vendors not merged into another, scored with its active model (the prior
    /// while it has none); pairs people dismissed are never joined.
    /// </summary>
    public async Task<IReadOnlyList<VendorCluster>> DuplicateClustersAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var personalData = await personalDataKeys.DataAsync(cancellationToken);
        var vendors = (await unitOfWork.Db.GetTable<VendorRow>().Where(vendor => vendor.MergedInto == null).OrderBy(vendor => vendor.Code).ToListAsync(cancellationToken))
            .Select(vendor => new Vendor(
                vendor.Code, vendor.Name,
                personalData.Open(vendor.TaxIdEncrypted, PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorTaxId, vendor.Code)),
                personalData.Open(vendor.EmailEncrypted, PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorEmail, vendor.Code)),
                null, null, null))
            .ToList();
        var model = (await SimilarityModelStore.FindActiveAsync(unitOfWork, cancellationToken))?.Model ?? SimilarityModel.Prior;
        return VendorClustering.Cluster(vendors, model, await VendorMerges.DismissedPairsAsync(unitOfWork, cancellationToken));
    }

    /// <summary>The active vendor-name model as the settings card shows it; null while the tenant has none (the prior applies).</summary>
    public async Task<MatchingModelCard?> ModelCardAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var row = await unitOfWork.Db.GetTable<ModelRow>()
            .Where(model => model.Kind == SimilarityModelStore.VendorNameKind && model.IsActive)
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }

        using var metrics = System.Text.Json.JsonDocument.Parse(row.Metrics);
        var root = metrics.RootElement;
        return new MatchingModelCard(
            row.Version, row.TrainingExamples,
            root.TryGetProperty("reviewerPairs", out var reviewerPairs) ? reviewerPairs.GetInt32() : 0,
            root.TryGetProperty("trainingAccuracy", out var accuracy) ? accuracy.GetDouble() : 0,
            DateTime.SpecifyKind(row.TrainedAt, DateTimeKind.Utc))
        {
            HeldBack = new HeldBackEvaluation(
                row.HeldBackPairs, root.TryGetProperty("heldBackMatchingPairs", out var matching) ? matching.GetInt32() : 0,
                row.HeldBackPrecision, row.HeldBackRecall),
        };
    }

    /// <summary>
    /// Retrains the tenant's model now when its training set changed since the active version (<see cref="SimilarityModelRetraining.RetrainAsync"/>),
    /// audited when a version was trained; the card of the active model afterwards, and whether this call trained it.
    /// </summary>
    public async Task<(MatchingModelCard? Card, bool TrainedNow)> RetrainAsync(Guid tenantId, string actor, CancellationToken cancellationToken)
    {
        var model = await retraining.RetrainAsync(tenantId, cancellationToken, actor);
        return (await ModelCardAsync(tenantId, cancellationToken), model is { TrainedNow: true });
    }

    [Table("similarity_models")]
    private sealed class ModelRow
    {
        [Column("kind")]
        public string Kind { get; set; } = "";

        [Column("version")]
        public int Version { get; set; }

        [Column("metrics", DataType = DataType.BinaryJson)]
        public string Metrics { get; set; } = "{}";

        [Column("training_examples")]
        public int TrainingExamples { get; set; }

        [Column("trained_at")]
        public DateTime TrainedAt { get; set; }

        [Column("is_active")]
        public bool IsActive { get; set; }

        [Column("held_back_pairs")]
        public int HeldBackPairs { get; set; }

        [Column("held_back_precision")]
        public double? HeldBackPrecision { get; set; }

        [Column("held_back_recall")]
        public double? HeldBackRecall { get; set; }
    }

    [Table("vendors")]
    private sealed class VendorRow
    {
        [Column("vendor_code")]
        public string Code { get; set; } = "";

        [Column("name")]
        public string Name { get; set; } = "";

        [Column("tax_id_encrypted")]
        public byte[]? TaxIdEncrypted { get; set; }

        [Column("email_encrypted")]
        public byte[]? EmailEncrypted { get; set; }

        [Column("merged_into")]
        public Guid? MergedInto { get; set; }
    }
}
