using LinqToDB.Data;
using Invisible.Platform.Events;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Tests.Events;

/// <summary>The clean-up of delivered outbox rows and old inbox rows, against a real database under row-level security.</summary>
public sealed class OutboxRetentionTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    [Fact]
    public async Task Rows_older_than_the_retention_go_in_batches_in_every_tenant_and_pending_recent_and_dead_lettered_ones_stay()
    {
        var (first, second) = await fixture.Database.CreateTwoTenantsAsync();
        var oldDelivered = await EnqueueAsync(first.Id, 5, publishedDaysAgo: 8);
        var recentDelivered = await EnqueueAsync(first.Id, 1, publishedDaysAgo: 1);
        var oldPending = await EnqueueAsync(first.Id, 1, publishedDaysAgo: null, occurredDaysAgo: 30);
        var neighbourOldDelivered = await EnqueueAsync(second.Id, 3, publishedDaysAgo: 9);

        var oldHandled = oldDelivered.Concat(neighbourOldDelivered).ToList();
        await HandledAsync(first.Id, oldDelivered, daysAgo: 8);
        await HandledAsync(second.Id, neighbourOldDelivered, daysAgo: 9);
        await HandledAsync(first.Id, recentDelivered, daysAgo: 1);
        var deadLettered = Guid.NewGuid();
        await HandledAsync(first.Id, [deadLettered], daysAgo: 20);
        await DeadLetterAsync(first.Id, deadLettered);

        // Two rows per transaction: eight outbox rows and eight inbox rows take several rounds each.
        var retention = new OutboxRetention(
            fixture.Database.AppDataSource, fixture.Database.Tenants,
            Options.Create(new EventsOptions { Retention = Retention, RetentionBatchSize = 2 }),
            TimeProvider.System, NullLogger<OutboxRetention>.Instance);
        var report = await retention.PurgeAsync(TestTimeout.Token);

        Assert.True(report.OutboxRowsDeleted >= oldHandled.Count, $"{report.OutboxRowsDeleted} outbox rows deleted");
        Assert.True(report.InboxRowsDeleted >= oldHandled.Count, $"{report.InboxRowsDeleted} inbox rows deleted");
        Assert.Equal(((Guid[])[.. recentDelivered, .. oldPending]).Order(), (await OutboxIdsAsync(first.Id)).Order());
        Assert.Empty(await OutboxIdsAsync(second.Id));
        Assert.Equal(((Guid[])[.. recentDelivered, deadLettered]).Order(), (await InboxIdsAsync(first.Id)).Order());
        Assert.Empty(await InboxIdsAsync(second.Id));

        var again = await retention.PurgeAsync(TestTimeout.Token);
        Assert.Equal(new RetentionReport(0, 0), again);
    }

    private async Task<List<Guid>> EnqueueAsync(Guid tenantId, int count, int? publishedDaysAgo, int occurredDaysAgo = 0)
    {
        await using var unitOfWork = await fixture.Database.Tenants.BeginAsync(tenantId, TestTimeout.Token);
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var receipt = ReceiptPosted.For(tenantId, $"GR-{i}") with { OccurredAt = DateTimeOffset.UtcNow.AddDays(-occurredDaysAgo) };
            await EventOutbox.EnqueueAsync(unitOfWork, receipt, TestTimeout.Token);
            ids.Add(receipt.Id);
        }

        await unitOfWork.Db.ExecuteAsync(
            "UPDATE outbox SET published_at = now() - make_interval(days => @Days), attempts = 1 WHERE id = ANY(@Ids) AND @Days IS NOT NULL", new { Days = publishedDaysAgo, Ids = ids.ToArray() }, CancellationToken.None);
        await unitOfWork.CommitAsync(TestTimeout.Token);
        return ids.Order().ToList();
    }

    private async Task HandledAsync(Guid tenantId, IEnumerable<Guid> eventIds, int daysAgo)
    {
        await using var unitOfWork = await fixture.Database.Tenants.BeginAsync(tenantId, TestTimeout.Token);
        await unitOfWork.Db.ExecuteAsync(
            """
            INSERT INTO inbox (tenant_id, consumer, event_id, processed_at)
            SELECT @TenantId, 'retention-test', event_id, now() - make_interval(days => @Days) FROM unnest(@Ids) AS event_id
            """, new { TenantId = tenantId, Days = daysAgo, Ids = eventIds.ToArray() }, CancellationToken.None);
        await unitOfWork.CommitAsync(TestTimeout.Token);
    }

    private async Task DeadLetterAsync(Guid tenantId, Guid eventId)
    {
        await using var unitOfWork = await fixture.Database.Tenants.BeginAsync(tenantId, TestTimeout.Token);
        await unitOfWork.Db.ExecuteAsync(
            """
            INSERT INTO outbox_dead_letters (id, tenant_id, topic, event_type, payload, occurred_at, attempts, last_error, dead_lettered_at)
            VALUES (@Id, @TenantId, 'receipt-posted', 'ReceiptPosted', '{}', now() - interval '21 days', 3, 'failed', now() - interval '20 days')
            """, new { Id = eventId, TenantId = tenantId }, CancellationToken.None);
        await unitOfWork.CommitAsync(TestTimeout.Token);
    }

    private async Task<List<Guid>> OutboxIdsAsync(Guid tenantId) => await IdsAsync(tenantId, "SELECT id FROM outbox");

    private async Task<List<Guid>> InboxIdsAsync(Guid tenantId) => await IdsAsync(tenantId, "SELECT event_id FROM inbox");

    private async Task<List<Guid>> IdsAsync(Guid tenantId, string sql)
    {
        await using var unitOfWork = await fixture.Database.Tenants.BeginAsync(tenantId, TestTimeout.Token);
        return (await unitOfWork.Db.QueryToListAsync<Guid>(sql, CancellationToken.None)).ToList();
    }
}
