using Invisible.Data.Access;
using Invisible.Platform.Events;
using Invisible.Testing;
using LinqToDB.Data;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Invisible.Platform.Tests.Events;

/// <summary>The outbox, dispatcher and inbox against a real PostgreSQL database (schema v1, application role, RLS).</summary>
public sealed class OutboxReliabilityTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task An_event_committed_while_no_dispatcher_ran_is_delivered_once_a_dispatcher_starts()
    {
        var tenant = await fixture.Database.CreateTenantAsync("killed-before-dispatch");
        var handlerSwitch = new HandlerSwitch();
        var committed = ReceiptPosted.For(tenant.Id, "GR-1");
        var rolledBack = ReceiptPosted.For(tenant.Id, "GR-2");
        await EnqueueAsync(committed, commit: true);
        await EnqueueAsync(rolledBack, commit: false);

        // A new process: nothing of the old one survives but the database.
        await using var services = EmbeddedEventServices.For(fixture.Database, handlerSwitch);
        var dispatcher = services.GetRequiredService<OutboxDispatcher>();
        await dispatcher.StartAsync(TestTimeout.Token);
        try
        {
            // The outbox row is marked published after the subscriber's transaction commits, so wait for both.
            await Eventually.TrueAsync(
                async () => (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource)).ContainsKey(committed.Id) &&
                            await PendingCountAsync(tenant.Id) == 0,
                Patience);
        }
        finally
        {
            await dispatcher.StopAsync(CancellationToken.None);
        }

        var effects = await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource);
        Assert.Equal(1, effects[committed.Id]);
        Assert.False(effects.ContainsKey(rolledBack.Id));
        Assert.Equal(0, await PendingCountAsync(tenant.Id));
    }

    [Fact]
    public async Task A_notification_wakes_the_dispatcher_slowEventbefore_its_polling_interval()
    {
        var tenant = await fixture.Database.CreateTenantAsync("woken-by-notify");
        // Its own application name tells this dispatcher's LISTEN session apart from pooled sessions of earlier tests.
        var applicationName = $"notify-test-{Guid.NewGuid():N}";
        await using var appDataSource = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(fixture.Database.AppConnectionString) { ApplicationName = applicationName }.ConnectionString);
        // Polling far slower than the test waits: only the notification of the commit can deliver the event in time.
        await using var services = EmbeddedEventServices.For(appDataSource, new HandlerSwitch(), pollInterval: TimeSpan.FromMinutes(10));
        var dispatcher = services.GetRequiredService<OutboxDispatcher>();
        await dispatcher.StartAsync(TestTimeout.Token);
        try
        {
            // The listener's first pass (which looks at every tenant) must be over before the event is committed, or
            // that pass rather than the notification would deliver it.
            await Eventually.TrueAsync(() => IsListeningAsync(applicationName), Patience);
            await Task.Delay(500);
            var receipt = ReceiptPosted.For(tenant.Id, "GR-NOTIFY");
            await EnqueueAsync(receipt, commit: true);

            await Eventually.TrueAsync(async () => (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource)).ContainsKey(receipt.Id), Patience);
        }
        finally
        {
            await dispatcher.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_tenant_whose_event_takes_slowEventdoes_not_hold_up_another_tenants_events()
    {
        var slow = await fixture.Database.CreateTenantAsync("slow-lane");
        var other = await fixture.Database.CreateTenantAsync("fast-lane");
        var handlerSwitch = new HandlerSwitch { HoldOn = "GR-LONG" };
        await using var services = EmbeddedEventServices.For(fixture.Database, handlerSwitch);
        var dispatcher = services.GetRequiredService<OutboxDispatcher>();
        await dispatcher.StartAsync(TestTimeout.Token);
        try
        {
            var slowEvent = ReceiptPosted.For(slow.Id, "GR-LONG");
            await EnqueueAsync(slowEvent, commit: true);
            await handlerSwitch.Holding.Task.WaitAsync(Patience);
            var arrived = ReceiptPosted.For(other.Id, "GR-ARRIVED");
            await EnqueueAsync(arrived, commit: true);

            // Delivered while the slow tenant's handler still holds its batch: with one lane for all tenants it would wait.
            await Eventually.TrueAsync(async () => (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource)).ContainsKey(arrived.Id), Patience);
            handlerSwitch.Release.TrySetResult();
            // Leave nothing pending for the next test's dispatcher.
            await Eventually.TrueAsync(async () => await PendingCountAsync(slow.Id) == 0, Patience);
        }
        finally
        {
            handlerSwitch.Release.TrySetResult();
            await dispatcher.StopAsync(CancellationToken.None);
        }
    }

    private async Task<bool> IsListeningAsync(string applicationName)
    {
        await using var connection = new NpgsqlConnection(fixture.Database.SuperuserConnectionString);
        await connection.OpenAsync(TestTimeout.Token);
        await using var db = ProductData.On(connection);
        return await db.ExecuteAsync<bool>(
            "select exists (select 1 from pg_stat_activity where application_name = @applicationName and query ilike 'listen %')",
            new { applicationName }, TestTimeout.Token);
    }

    [Fact]
    public async Task The_same_event_delivered_twice_even_at_the_same_time_has_one_effect()
    {
        var tenant = await fixture.Database.CreateTenantAsync("delivered-twice");
        await using var services = EmbeddedEventServices.For(fixture.Database, new HandlerSwitch());
        var delivery = services.GetRequiredService<EventDelivery>();
        var envelope = EventEnvelope.From(ReceiptPosted.For(tenant.Id, "GR-3"));

        await delivery.DeliverAsync(envelope, TestTimeout.Token);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => delivery.DeliverAsync(envelope, TestTimeout.Token)));

        Assert.Equal(1, (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource))[envelope.Id]);
    }

    [Fact]
    public async Task A_handler_that_always_fails_sends_the_event_to_the_dead_letters_after_N_attempts_and_redrive_delivers_it()
    {
        var tenant = await fixture.Database.CreateTenantAsync("dead-lettered");
        var handlerSwitch = new HandlerSwitch { Fail = true };
        await using var services = EmbeddedEventServices.For(fixture.Database, handlerSwitch, maxAttempts: 3);
        var dispatcher = services.GetRequiredService<OutboxDispatcher>();
        var deadLetters = services.GetRequiredService<DeadLetters>();
        var poison = ReceiptPosted.For(tenant.Id, "GR-POISON");
        await EnqueueAsync(poison, commit: true);

        await dispatcher.StartAsync(TestTimeout.Token);
        try
        {
            await Eventually.TrueAsync(async () => (await deadLetters.ListAsync(tenant.Id, 10, TestTimeout.Token)).Count == 1, Patience);
            var deadLetter = Assert.Single(await deadLetters.ListAsync(tenant.Id, 10, TestTimeout.Token));
            Assert.Equal(poison.Id, deadLetter.Id);
            Assert.Equal(3, deadLetter.Attempts);
            Assert.Equal(3, handlerSwitch.Calls);
            Assert.Equal("receipt-posted", deadLetter.Topic);
            Assert.Equal(nameof(ReceiptPosted), deadLetter.EventType);
            Assert.Contains("Handler told to fail on GR-POISON", deadLetter.LastError);
            Assert.False((await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource)).ContainsKey(poison.Id));

            handlerSwitch.Fail = false;
            Assert.Equal(1, await deadLetters.RedriveAsync(tenant.Id, [poison.Id], TestTimeout.Token));

            await Eventually.TrueAsync(async () => (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource)).ContainsKey(poison.Id), Patience);
        }
        finally
        {
            await dispatcher.StopAsync(CancellationToken.None);
        }

        Assert.Equal(1, (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource))[poison.Id]);
        Assert.Empty(await deadLetters.ListAsync(tenant.Id, 10, TestTimeout.Token));
    }

    [Fact]
    public async Task One_failing_event_in_a_batch_is_rolled_back_alone_and_the_rest_of_the_batch_is_delivered()
    {
        var tenant = await fixture.Database.CreateTenantAsync("batch-with-poison");
        await using var services = EmbeddedEventServices.For(fixture.Database, new HandlerSwitch { FailOnlyOn = "GR-BAD" }, maxAttempts: 3);
        var before = ReceiptPosted.For(tenant.Id, "GR-BEFORE");
        var poison = ReceiptPosted.For(tenant.Id, "GR-BAD");
        var after = ReceiptPosted.For(tenant.Id, "GR-AFTER");
        await using (var unitOfWork = await fixture.Database.Tenants.BeginAsync(tenant.Id, TestTimeout.Token))
        {
            foreach (var receipt in new[] { before, poison, after })
            {
                await EventOutbox.EnqueueAsync(unitOfWork, receipt, TestTimeout.Token);
            }

            await unitOfWork.CommitAsync(TestTimeout.Token);
        }

        // One pass claims all three and delivers them to the handler in one transaction.
        Assert.Equal(3, await services.GetRequiredService<OutboxDispatcher>().DispatchPendingAsync(TestTimeout.Token));

        var effects = await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource);
        Assert.Equal(1, effects[before.Id]);
        Assert.Equal(1, effects[after.Id]);
        Assert.False(effects.ContainsKey(poison.Id), "the failed event's write is rolled back to its savepoint");
        await using var check = await fixture.Database.Tenants.BeginAsync(tenant.Id, TestTimeout.Token);
        var rows = (await check.Db.QueryToListAsync(
            row => (Id: row.GetGuid(0), Published: row.GetBoolean(1), Attempts: row.GetInt32(2), LastError: row.IsDBNull(3) ? null : row.GetString(3)),
            "SELECT id, published_at IS NOT NULL, attempts, last_error FROM outbox", TestTimeout.Token)).ToDictionary(row => row.Id);
        Assert.True(rows[before.Id].Published);
        Assert.True(rows[after.Id].Published);
        Assert.False(rows[poison.Id].Published);
        Assert.Equal(1, rows[poison.Id].Attempts);
        Assert.Contains("GR-BAD", rows[poison.Id].LastError);
        var inbox = (await check.Db.QueryToListAsync<Guid>("SELECT event_id FROM inbox", TestTimeout.Token)).ToHashSet();
        Assert.Equal(new HashSet<Guid> { before.Id, after.Id }, inbox);
    }

    [Fact]
    public async Task One_tenant_cannot_see_or_redrive_another_tenants_dead_letters()
    {
        var first = await fixture.Database.CreateTenantAsync("dead-letters-owner");
        var second = await fixture.Database.CreateTenantAsync("dead-letters-neighbour");
        await using var services = EmbeddedEventServices.For(fixture.Database, new HandlerSwitch { Fail = true }, maxAttempts: 1);
        var poison = ReceiptPosted.For(first.Id, "GR-A");
        await EnqueueAsync(poison, commit: true);
        await services.GetRequiredService<OutboxDispatcher>().DispatchPendingAsync(TestTimeout.Token);
        var deadLetters = services.GetRequiredService<DeadLetters>();

        Assert.Single(await deadLetters.ListAsync(first.Id, 10, TestTimeout.Token));
        Assert.Empty(await deadLetters.ListAsync(second.Id, 10, TestTimeout.Token));
        Assert.Equal(0, await deadLetters.RedriveAllAsync(second.Id, TestTimeout.Token));
    }

    [Fact]
    public async Task Enqueueing_an_event_of_another_tenant_is_refused()
    {
        var first = await fixture.Database.CreateTenantAsync("outbox-writer");
        var second = await fixture.Database.CreateTenantAsync("outbox-other");
        await using var unitOfWork = await fixture.Database.Tenants.BeginAsync(first.Id, TestTimeout.Token);

        await Assert.ThrowsAsync<ArgumentException>(() =>
            EventOutbox.EnqueueAsync(unitOfWork, ReceiptPosted.For(second.Id, "GR-X"), TestTimeout.Token));
    }

    private async Task EnqueueAsync(IntegrationEvent integrationEvent, bool commit)
    {
        await using var unitOfWork = await fixture.Database.Tenants.BeginAsync(integrationEvent.TenantId, TestTimeout.Token);
        await EventOutbox.EnqueueAsync(unitOfWork, integrationEvent, TestTimeout.Token);
        if (commit)
        {
            await unitOfWork.CommitAsync(TestTimeout.Token);
        }
    }

    private async Task<long> PendingCountAsync(Guid tenantId)
    {
        await using var unitOfWork = await fixture.Database.Tenants.BeginAsync(tenantId, TestTimeout.Token);
        return await unitOfWork.Db.ExecuteAsync<long>("SELECT count(*) FROM outbox WHERE published_at IS NULL", TestTimeout.Token);
    }
}
