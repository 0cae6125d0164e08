using Invisible.Data.Access;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Invisible.Platform.Events;

/// <summary>What one clean-up removed.</summary>
public sealed record RetentionReport(long OutboxRowsDeleted, long InboxRowsDeleted);

/// <summary>
/// Removes delivered outbox rows and inbox rows older than <see cref="EventsOptions.Retention"/>, in every tenant, at
/// start-up and then every <see cref="EventsOptions.RetentionInterval"/>. Runs wherever the dispatcher runs (the
/// <c>worker</c> and <c>all</c> roles). Both tables are tenant-owned, so each tenant is cleaned in its own units of work,
/// <see cref="EventsOptions.RetentionBatchSize"/> rows per transaction. Pending and dead-lettered events are never
/// removed, nor the inbox rows of dead-lettered events (a redrive must still recognise the consumers that had succeeded).
/// </summary>
public sealed class OutboxRetention(
    NpgsqlDataSource database, TenantDatabase tenants, IOptions<EventsOptions> options, TimeProvider time, ILogger<OutboxRetention> logger)
    : PeriodicBackgroundWork(options.Value.RetentionInterval, time, logger, "Outbox clean-up")
{
    private readonly EventsOptions _options = options.Value;

    /// <summary>Removes, in every tenant, what was delivered or handled before <c>now − Retention</c>.</summary>
    public async Task<RetentionReport> PurgeAsync(CancellationToken cancellationToken)
    {
        var cutoff = Time.GetUtcNow() - _options.Retention;
        List<Guid> tenantIds;
        await using (var connection = await database.OpenConnectionAsync(cancellationToken))
        await using (var db = ProductData.On(connection))
        {
            // SQL: a SECURITY DEFINER function that lists every tenant.
            tenantIds = (await db.QueryToListAsync<Guid>(
                "SELECT id FROM tenant_directory_list()", cancellationToken)).ToList();
        }

        long outboxDeleted = 0, inboxDeleted = 0;
        foreach (var tenantId in tenantIds)
        {
            // Position order walks the outbox's position index from the oldest rows and stops after one batch.
            outboxDeleted += await DeleteInBatchesAsync(tenantId, """
                DELETE FROM outbox WHERE id = ANY(ARRAY(
                    SELECT id FROM outbox WHERE published_at < @Cutoff ORDER BY position LIMIT @BatchSize))
                """, cutoff, cancellationToken);
            inboxDeleted += await DeleteInBatchesAsync(tenantId, """
                DELETE FROM inbox WHERE ctid = ANY(ARRAY(
                    SELECT i.ctid FROM inbox i
                    WHERE i.processed_at < @Cutoff
                      AND NOT EXISTS (SELECT 1 FROM outbox_dead_letters d WHERE d.id = i.event_id)
                    LIMIT @BatchSize))
                """, cutoff, cancellationToken);
        }

        return new RetentionReport(outboxDeleted, inboxDeleted);
    }

    private async Task<long> DeleteInBatchesAsync(Guid tenantId, string deleteBatch, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        long deleted = 0;
        int batch;
        do
        {
            await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
            // SQL: a batched delete (the batch chosen by a limited subquery, by ctid for the keyless inbox), given by the caller.
            batch = await unitOfWork.Db.ExecuteAsync(
                deleteBatch, new { Cutoff = cutoff, BatchSize = _options.RetentionBatchSize }, cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
            deleted += batch;
        }
        while (batch >= _options.RetentionBatchSize);

        return deleted;
    }

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var report = await PurgeAsync(cancellationToken);
        if (report.OutboxRowsDeleted + report.InboxRowsDeleted > 0)
        {
            Logger.LogInformation(
                "Removed {OutboxRows} delivered outbox rows and {InboxRows} inbox rows older than {Retention}",
                report.OutboxRowsDeleted, report.InboxRowsDeleted, _options.Retention);
        }
    }
}
