using Invisible.Data.Audit;
using System.Threading.Channels;
using Invisible.Data.Tenancy;
using Invisible.Server.FieldEncryption;

namespace Invisible.Server.Matching.Models;

/// <summary>
/// Retrains a tenant's vendor-name model in the background after people confirmed names for vendors, so that a reviewer's
/// call never waits for training: the resolver takes the confirmed names at their word at once, and the new model version
/// (trained on them too) is active a few seconds later. Requests for a tenant already waiting are merged.
/// </summary>
public sealed class SimilarityModelRetraining(TenantDatabase tenants, PersonalDataKeys personalDataKeys, ILogger<SimilarityModelRetraining> logger)
    : BackgroundService
{
    private readonly Channel<Guid> requests = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<Guid> waiting = [];
    private readonly Lock gate = new();

    /// <summary>Asks for the tenant's model to be retrained if its training set changed; call it after the change committed.</summary>
    public void Request(Guid tenantId)
    {
        lock (gate)
        {
            if (!waiting.Add(tenantId))
            {
                return;
            }
        }

        requests.Writer.TryWrite(tenantId);
    }

    /// <summary>
    /// Trains and stores a new active version when the tenant's training set (confirmed names included) changed since the
    /// active one; serialised with the tenant's matching runs. Returns the active model afterwards.
    /// </summary>
    /// <param name="actor">Who asked for it (Settings → Matching model → Retrain now): a version trained is audited in their name.</param>
    public async Task<PersistedSimilarityModel?> RetrainAsync(Guid tenantId, CancellationToken cancellationToken, string? actor = null)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        await MatchDecisionStore.BeginRunAsync(unitOfWork, cancellationToken);
        var model = await SimilarityModelStore.EnsureActiveAsync(
            unitOfWork, await personalDataKeys.DataAsync(cancellationToken), cancellationToken, evenForConfirmedNames: true);
        if (actor is not null && model is { TrainedNow: true })
        {
            await AuditLog.AppendAsync(unitOfWork, actor, "matching_model.retrained", "similarity_model", model.Id.ToString(), null,
                new { version = model.Model.Version, trainingPairs = model.Model.TrainingExamples }, null, cancellationToken);
        }

        await unitOfWork.CommitAsync(cancellationToken);
        if (model is { TrainedNow: true })
        {
            logger.LogInformation("Vendor-name model of tenant {TenantId} retrained as version {Version} on {Examples} pairs",
                tenantId, model.Model.Version, model.Model.TrainingExamples);
        }

        return model;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var tenantId in requests.Reader.ReadAllAsync(stoppingToken))
        {
            lock (gate)
            {
                waiting.Remove(tenantId);
            }

            try
            {
                await RetrainAsync(tenantId, stoppingToken);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // The next confirmation or reconcile retrains; the active model keeps serving meanwhile.
                logger.LogWarning(error, "Retraining the vendor-name model of tenant {TenantId} failed", tenantId);
            }
        }
    }
}
