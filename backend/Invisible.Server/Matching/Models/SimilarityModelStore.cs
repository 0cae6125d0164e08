using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.Matching.Models;

/// <summary>A tenant's vendor-name model as stored: its row, the training-set fingerprint it was fitted on, and whether this call trained it.</summary>
public sealed record PersistedSimilarityModel(Guid Id, SimilarityModel Model, string Fingerprint, bool TrainedNow)
{
    /// <summary>The fingerprint of the training set without the names people confirmed (empty for models stored before).</summary>
    public string MasterFingerprint { get; init; } = "";
}

/// <summary>
/// Versioned, per-tenant similarity models in <c>similarity_models</c>. The vendor-name model is trained from the tenant's
/// own vendor master and the names its vendors are known to print (aliases from imports; reviewers' confirmations weigh
/// more), deterministically, and stored as a new active version only when that training set changed: its fingerprint
/// (a hash of the vendors, the aliases and the trainer's recipe) is kept with the metrics and compared on every reconcile.
/// The model itself is ML.NET's model file (<c>model_file</c>); <c>weights</c> repeats its linear weights for people
/// reading the table.
/// </summary>
public static class SimilarityModelStore
{
    public const string VendorNameKind = "vendor_name";
    private const string InterceptName = "intercept";

    /// <summary>
    /// The active vendor-name model of the unit of work's tenant, trained and stored first (as version n + 1, the only
    /// active one) when there is none or the training set changed since it was trained. Null when the tenant has fewer
    /// than two vendors: there is nothing to tell apart and the engine's prior applies. Call it inside the reconcile
    /// transaction, after <see cref="MatchDecisionStore.BeginRunAsync"/>, so concurrent runs cannot train the same version.
    /// </summary>
    /// <param name="personalData">Opens the vendors' tax ids, which the trainer and the fingerprint read in the clear.</param>
    /// <param name="evenForConfirmedNames">
    /// Whether names people confirmed since the active model was trained are reason enough to train now. Matching runs pass
    /// false: the resolver takes confirmed names at their word already, and <see cref="SimilarityModelRetraining"/> trains
    /// the new version in the background instead of in a reviewer's call.
    /// </param>
    public static async Task<PersistedSimilarityModel?> EnsureActiveAsync(
        TenantUnitOfWork unitOfWork, Identity.Encryption.PersonalData personalData, CancellationToken cancellationToken, bool evenForConfirmedNames = false)
    {
        var training = await LoadTrainingSetAsync(unitOfWork, personalData, cancellationToken);
        var active = await FindActiveAsync(unitOfWork, cancellationToken);
        if (active is not null && active.Fingerprint == training.Fingerprint)
        {
            return active;
        }

        // Names back to what an earlier version learned from (a vendor merge undone, a confirmed name moved back) get that
        // version back as it was, so undoing a change also undoes what the model learned from it.
        if (await ReactivateEarlierAsync(unitOfWork, training.Fingerprint, cancellationToken) is { } earlier)
        {
            return earlier;
        }

        if (active is not null && !evenForConfirmedNames && active.MasterFingerprint.Length > 0 && active.MasterFingerprint == training.MasterFingerprint)
        {
            return active;
        }

        if (training.Vendors.Count < 2)
        {
            return null;
        }

        var models = unitOfWork.Db.GetTable<SimilarityModelRow>().Where(model => model.Kind == VendorNameKind);
        var version = 1 + (await models.Select(model => (int?)model.Version).MaxAsync(cancellationToken) ?? 0);
        var trained = SimilarityModelTrainer.TrainWithMetrics(training.Vendors, training.ReviewerDecisions, version);
        var metrics = new Dictionary<string, object>
        {
            ["fingerprint"] = training.Fingerprint,
            ["masterFingerprint"] = training.MasterFingerprint,
            ["recipe"] = SimilarityModelTrainer.RecipeVersion,
            ["trainer"] = LogisticTrainer.Name,
            ["vendors"] = training.Vendors.Count,
            ["aliasPairs"] = training.Vendors.Sum(vendor => vendor.Aliases.Count),
            ["reviewerPairs"] = training.ReviewerDecisions.Count,
            ["examples"] = trained.Examples,
            ["matchingExamples"] = trained.MatchingExamples,
            ["trainingAccuracy"] = trained.TrainingAccuracy,
            ["trainingLogLoss"] = trained.TrainingLogLoss,
            ["heldBackMatchingPairs"] = trained.HeldBack.MatchingPairs,
        };
        await models.Where(model => model.IsActive).Set(model => model.IsActive, false).UpdateAsync(cancellationToken);
        var row = new SimilarityModelRow
        {
            Id = Guid.NewGuid(),
            TenantId = unitOfWork.TenantId,
            Kind = VendorNameKind,
            Version = version,
            Weights = WeightsJson(trained.Model.VendorMatch),
            Metrics = JsonSerializer.Serialize(metrics),
            TrainingExamples = trained.Examples,
            IsActive = true,
            ModelFile = trained.Model.ModelFile,
            HeldBackPairs = trained.HeldBack.Pairs,
            HeldBackPrecision = trained.HeldBack.Precision,
            HeldBackRecall = trained.HeldBack.Recall,
        };
        await unitOfWork.Db.InsertAsync(row, token: cancellationToken);
        return new PersistedSimilarityModel(row.Id, trained.Model, training.Fingerprint, TrainedNow: true) { MasterFingerprint = training.MasterFingerprint };
    }

    private static async Task<PersistedSimilarityModel?> ReactivateEarlierAsync(TenantUnitOfWork unitOfWork, string fingerprint, CancellationToken cancellationToken)
    {
        var models = unitOfWork.Db.GetTable<SimilarityModelRow>().Where(model => model.Kind == VendorNameKind);
        var earlier = (await models.Where(model => !model.IsActive && model.ModelFile != null)
                .OrderByDescending(model => model.Version)
                .Select(model => new { model.Id, model.Metrics })
                .ToListAsync(cancellationToken))
            .FirstOrDefault(model => FingerprintOf(model.Metrics) == fingerprint);
        if (earlier is null)
        {
            return null;
        }

        await models.Where(model => model.IsActive).Set(model => model.IsActive, false).UpdateAsync(cancellationToken);
        await models.Where(model => model.Id == earlier.Id).Set(model => model.IsActive, true).UpdateAsync(cancellationToken);
        return await FindActiveAsync(unitOfWork, cancellationToken);
    }

    private static string FingerprintOf(string metrics)
    {
        using var document = JsonDocument.Parse(metrics);
        return document.RootElement.TryGetProperty("fingerprint", out var value) ? value.GetString() ?? "" : "";
    }

    /// <summary>
    /// The active vendor-name model as stored, or null when there is none or it cannot score this engine's features
    /// (stored before models were ML.NET files, or for other features): its fingerprint cannot match, so it is retrained.
    /// </summary>
    public static async Task<PersistedSimilarityModel?> FindActiveAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var row = await unitOfWork.Db.GetTable<SimilarityModelRow>()
            .Where(model => model.Kind == VendorNameKind && model.IsActive)
            .FirstOrDefaultAsync(cancellationToken);
        if (row?.ModelFile is null)
        {
            return null;
        }

        SimilarityModel model;
        try
        {
            model = SimilarityModel.FromModelFile(row.Version, row.ModelFile, row.TrainingExamples);
        }
        catch (FormatException)
        {
            return null;
        }

        using var metrics = JsonDocument.Parse(row.Metrics);
        var fingerprint = metrics.RootElement.TryGetProperty("fingerprint", out var value) ? value.GetString() ?? "" : "";
        var masterFingerprint = metrics.RootElement.TryGetProperty("masterFingerprint", out var master) ? master.GetString() ?? "" : "";
        return new PersistedSimilarityModel(row.Id, model, fingerprint, TrainedNow: false) { MasterFingerprint = masterFingerprint };
    }

    /// <summary>Weights by feature name plus the intercept, as the <c>similarity_models.weights</c> column documents.</summary>
    internal static string WeightsJson(LogisticModel model)
    {
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < model.FeatureNames.Count; i++)
        {
            weights[model.FeatureNames[i]] = model.Weights[i];
        }

        weights[InterceptName] = model.Bias;
        return JsonSerializer.Serialize(weights);
    }

    /// <summary>
    /// The vendors (ordered by code, with the names they are known to print from the master and imports) and the names
    /// reviewers confirmed, with a fingerprint of all of it and of the trainer's recipe.
    /// </summary>
    internal static async Task<TrainingSet> LoadTrainingSetAsync(TenantUnitOfWork unitOfWork, Identity.Encryption.PersonalData personalData, CancellationToken cancellationToken)
    {
        var vendorRows = unitOfWork.Db.GetTable<VendorRow>();
        var vendors = (await vendorRows.OrderBy(vendor => vendor.Code).ToListAsync(cancellationToken))
            .Select(vendor => (vendor.Code, vendor.Name,
                TaxId: personalData.Open(vendor.TaxIdEncrypted, PersonalDataFields.OfVendor(unitOfWork.TenantId, PersonalDataFields.VendorTaxId, vendor.Code))))
            .ToList();
        string[] trainingSources = ["master", "import", "reviewer"];
        var aliases = await (
            from alias in unitOfWork.Db.GetTable<VendorAliasRow>()
            join vendor in vendorRows on alias.VendorId equals vendor.Id
            where alias.Kind == "name" && trainingSources.Contains(alias.Source)
            orderby vendor.Code, alias.Source, alias.Value
            select new { VendorCode = vendor.Code, alias.Source, alias.Value }).ToListAsync(cancellationToken);

        var fingerprint = new StringBuilder(SimilarityModelTrainer.RecipeVersion).Append('\n')
            .AppendJoin(',', VendorPairFeatures.Names).Append('\n');
        foreach (var vendor in vendors)
        {
            fingerprint.Append("vendor\t").Append(vendor.Code).Append('\t').Append(vendor.Name).Append('\t').Append(vendor.TaxId).Append('\n');
        }

        var master = fingerprint.ToString();
        foreach (var alias in aliases.Where(alias => alias.Source != "reviewer"))
        {
            master += $"alias\t{alias.VendorCode}\t{alias.Source}\t{alias.Value}\n";
        }

        foreach (var alias in aliases)
        {
            fingerprint.Append("alias\t").Append(alias.VendorCode).Append('\t').Append(alias.Source).Append('\t').Append(alias.Value).Append('\n');
        }

        var printedNames = aliases.Where(alias => alias.Source != "reviewer").ToLookup(alias => alias.VendorCode, alias => alias.Value, StringComparer.Ordinal);
        var trainingVendors = vendors
            .Select(vendor => new Vendor(vendor.Code, vendor.Name, vendor.TaxId)
            {
                Aliases = printedNames[vendor.Code].Where(alias => !alias.Equals(vendor.Name, StringComparison.OrdinalIgnoreCase)).Distinct(StringComparer.Ordinal).ToList(),
            })
            .ToList();
        var reviewerDecisions = aliases
            .Where(alias => alias.Source == "reviewer")
            .Select(alias => new ReviewerVendorDecision(alias.Value, null, alias.VendorCode, IsSameVendor: true))
            .ToList();
        return new TrainingSet(
            trainingVendors, reviewerDecisions,
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint.ToString()))),
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(master))));
    }

    internal sealed record TrainingSet(
        IReadOnlyList<Vendor> Vendors, IReadOnlyList<ReviewerVendorDecision> ReviewerDecisions, string Fingerprint, string MasterFingerprint);

    [Table("similarity_models")]
    private sealed class SimilarityModelRow
    {
        [Column("id"), PrimaryKey]
        public Guid Id { get; set; }

        [Column("tenant_id")]
        public Guid TenantId { get; set; }

        [Column("kind")]
        public string Kind { get; set; } = "";

        [Column("version")]
        public int Version { get; set; }

        [Column("weights", DataType = DataType.BinaryJson)]
        public string Weights { get; set; } = "{}";

        [Column("metrics", DataType = DataType.BinaryJson)]
        public string Metrics { get; set; } = "{}";

        [Column("training_examples")]
        public int TrainingExamples { get; set; }

        [Column("is_active")]
        public bool IsActive { get; set; }

        [Column("model_file")]
        public byte[]? ModelFile { get; set; }

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
        [Column("id")]
        public Guid Id { get; set; }

        [Column("vendor_code")]
        public string Code { get; set; } = "";

        [Column("name")]
        public string Name { get; set; } = "";

        [Column("tax_id_encrypted")]
        public byte[]? TaxIdEncrypted { get; set; }
    }

    [Table("vendor_aliases")]
    private sealed class VendorAliasRow
    {
        [Column("vendor_id")]
        public Guid VendorId { get; set; }

        [Column("kind")]
        public string Kind { get; set; } = "";

        [Column("source")]
        public string Source { get; set; } = "";

        [Column("value")]
        public string Value { get; set; } = "";
    }
}
