using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;

namespace Invisible.Server.Matching.Models;

/// <summary>A tenant's vendor-name model as stored: its row, the training-set fingerprint it was fitted on, and whether this call trained it.</summary>
public sealed record PersistedSimilarityModel(Guid Id, SimilarityModel Model, string Fingerprint, bool TrainedNow);

/// <summary>
/// Versioned, per-tenant similarity models in <c>similarity_models</c>. The vendor-name model is trained from the tenant's
/// own vendor master and the names its vendors are known to print (aliases from imports; reviewers' confirmations weigh
/// more), deterministically, and stored as a new active version only when that training set changed: its fingerprint
/// (a hash of the vendors, the aliases and the trainer's recipe) is kept with the metrics and compared on every reconcile.
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
    public static async Task<PersistedSimilarityModel?> EnsureActiveAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var training = await LoadTrainingSetAsync(unitOfWork, cancellationToken);
        var active = await FindActiveAsync(unitOfWork, cancellationToken);
        if (active is not null && active.Fingerprint == training.Fingerprint)
        {
            return active;
        }

        if (training.Vendors.Count < 2)
        {
            return null;
        }

        var version = 1 + await unitOfWork.Db.ExecuteAsync<int>(
            "select coalesce(max(version), 0) from similarity_models where kind = @kind", new { kind = VendorNameKind }, cancellationToken);
        var trained = SimilarityModelTrainer.TrainWithMetrics(training.Vendors, training.ReviewerDecisions, version);
        var metrics = new Dictionary<string, object>
        {
            ["fingerprint"] = training.Fingerprint,
            ["recipe"] = SimilarityModelTrainer.RecipeVersion,
            ["vendors"] = training.Vendors.Count,
            ["aliasPairs"] = training.Vendors.Sum(vendor => vendor.Aliases.Count),
            ["reviewerPairs"] = training.ReviewerDecisions.Count,
            ["examples"] = trained.Examples,
            ["matchingExamples"] = trained.MatchingExamples,
            ["trainingAccuracy"] = trained.TrainingAccuracy,
            ["trainingLogLoss"] = trained.TrainingLogLoss,
        };
        await unitOfWork.Db.ExecuteAsync(
            "update similarity_models set is_active = false where kind = @kind and is_active", new { kind = VendorNameKind }, cancellationToken);
        var id = await unitOfWork.Db.ExecuteAsync<Guid>(
            """
            insert into similarity_models (tenant_id, kind, version, weights, metrics, training_examples, is_active)
            values (@tenantId, @kind, @version, @weights::jsonb, @metrics::jsonb, @examples, true)
            returning id
            """, new
            {
                tenantId = unitOfWork.TenantId,
                kind = VendorNameKind,
                version,
                weights = WeightsJson(trained.Model.VendorMatch),
                metrics = JsonSerializer.Serialize(metrics),
                examples = trained.Examples,
            }, cancellationToken);
        return new PersistedSimilarityModel(id, trained.Model, training.Fingerprint, TrainedNow: true);
    }

    /// <summary>The active vendor-name model as stored, or null when there is none or it was made for other features.</summary>
    public static async Task<PersistedSimilarityModel?> FindActiveAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var row = (await unitOfWork.Db.QueryToListAsync<ModelRow>(
            """
            select id as Id, version as Version, weights::text as Weights, coalesce(metrics->>'fingerprint', '') as Fingerprint,
                   training_examples as TrainingExamples
            from similarity_models where kind = @kind and is_active
            """, new { kind = VendorNameKind }, cancellationToken)).SingleOrDefault();
        if (row is null)
        {
            return null;
        }

        var weights = JsonSerializer.Deserialize<Dictionary<string, double>>(row.Weights) ?? [];
        if (!weights.TryGetValue(InterceptName, out var intercept) || !VendorPairFeatures.Names.All(weights.ContainsKey))
        {
            // Stored by an engine with other features: not usable, and a fingerprint that cannot match makes it retrain.
            return null;
        }

        var model = new SimilarityModel(
            row.Version, new LogisticModel(VendorPairFeatures.Names, VendorPairFeatures.Names.Select(name => weights[name]).ToArray(), intercept), row.TrainingExamples);
        return new PersistedSimilarityModel(row.Id, model, row.Fingerprint, TrainedNow: false);
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
    internal static async Task<TrainingSet> LoadTrainingSetAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var vendors = await unitOfWork.Db.QueryToListAsync(
            reader => (Code: reader.GetString(0), Name: reader.GetString(1), TaxId: reader.IsDBNull(2) ? null : reader.GetString(2)),
            "select vendor_code, name, tax_id from vendors order by vendor_code", cancellationToken);
        var aliases = await unitOfWork.Db.QueryToListAsync(
            reader => (VendorCode: reader.GetString(0), Source: reader.GetString(1), Value: reader.GetString(2)),
            """
            select v.vendor_code, a.source, a.value
            from vendor_aliases a join vendors v on v.id = a.vendor_id
            where a.kind = 'name' and a.source in ('master', 'import', 'reviewer')
            order by v.vendor_code, a.source, a.value
            """, cancellationToken);

        var fingerprint = new StringBuilder(SimilarityModelTrainer.RecipeVersion).Append('\n')
            .AppendJoin(',', VendorPairFeatures.Names).Append('\n');
        foreach (var (code, name, taxId) in vendors)
        {
            fingerprint.Append("vendor\t").Append(code).Append('\t').Append(name).Append('\t').Append(taxId).Append('\n');
        }

        foreach (var (vendorCode, source, value) in aliases)
        {
            fingerprint.Append("alias\t").Append(vendorCode).Append('\t').Append(source).Append('\t').Append(value).Append('\n');
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
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint.ToString()))));
    }

    internal sealed record TrainingSet(IReadOnlyList<Vendor> Vendors, IReadOnlyList<ReviewerVendorDecision> ReviewerDecisions, string Fingerprint);

    private sealed class ModelRow
    {
        public Guid Id { get; init; }
        public int Version { get; init; }
        public string Weights { get; init; } = "{}";
        public string Fingerprint { get; init; } = "";
        public int TrainingExamples { get; init; }
    }
}
