using Invisible.Data.Tenancy;
using Invisible.Platform.Events;
using Invisible.Server.Realtime;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Invisible.Server.Tests.Realtime;

[IntegrationEvent("test.pinged")]
public sealed record Pinged(Guid Id, Guid TenantId, DateTimeOffset OccurredAt, int Number) : IntegrationEvent(Id, TenantId, OccurredAt)
{
    public static Pinged For(Guid tenantId, int number) => new(Guid.NewGuid(), tenantId, DateTimeOffset.UtcNow, number);
}

public sealed class LiveEventFeedTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private LiveEventFeed _feed = null!;
    private TenantDatabase _tenants = null!;

    public async Task InitializeAsync()
    {
        _tenants = new TenantDatabase(fixture.Database.AppDataSource);
        _feed = new LiveEventFeed(fixture.Database.AppDataSource, _tenants, NullLogger<LiveEventFeed>.Instance, TimeProvider.System);
        await _feed.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _feed.StopAsync(CancellationToken.None);
        _feed.Dispose();
    }

    [Fact]
    public async Task A_watcher_sees_its_own_tenants_committed_events_in_commit_order_and_nothing_of_another_tenant()
    {
        var (a, b) = await fixture.Database.CreateTwoTenantsAsync();
        using var subscription = await _feed.SubscribeAsync(a.Id, CancellationToken.None);

        await CommitAsync(a.Id, Pinged.For(a.Id, 1), Pinged.For(a.Id, 2));
        await CommitAsync(b.Id, Pinged.For(b.Id, 99));
        await CommitAsync(a.Id, Pinged.For(a.Id, 3));

        var received = await ReadAsync(subscription, 3);
        Assert.Equal(["1", "2", "3"], received.Select(e => NumberOf(e)));
        Assert.All(received, e => Assert.Equal("test.pinged", e.Topic));
        Assert.True(received[0].Position < received[1].Position && received[1].Position < received[2].Position);
        Assert.False(await HasMoreAsync(subscription));
    }

    [Fact]
    public async Task Events_committed_before_subscribing_and_rolled_back_events_are_never_sent()
    {
        var tenant = await fixture.Database.CreateTenantAsync();
        await CommitAsync(tenant.Id, Pinged.For(tenant.Id, 1));
        using var subscription = await _feed.SubscribeAsync(tenant.Id, CancellationToken.None);

        await using (var rolledBack = await _tenants.BeginAsync(tenant.Id, CancellationToken.None))
        {
            await EventOutbox.EnqueueAsync(rolledBack, Pinged.For(tenant.Id, 2), CancellationToken.None);
        }

        await CommitAsync(tenant.Id, Pinged.For(tenant.Id, 3));

        var received = await ReadAsync(subscription, 1);
        Assert.Equal("3", NumberOf(received[0]));
        Assert.False(await HasMoreAsync(subscription));
    }

    [Fact]
    public async Task Every_watcher_of_a_tenant_gets_every_event_and_a_finished_watch_stops_receiving()
    {
        var tenant = await fixture.Database.CreateTenantAsync();
        using var first = await _feed.SubscribeAsync(tenant.Id, CancellationToken.None);
        var second = await _feed.SubscribeAsync(tenant.Id, CancellationToken.None);

        await CommitAsync(tenant.Id, Pinged.For(tenant.Id, 1));
        Assert.Equal("1", NumberOf((await ReadAsync(first, 1))[0]));
        Assert.Equal("1", NumberOf((await ReadAsync(second, 1))[0]));

        second.Dispose();
        await CommitAsync(tenant.Id, Pinged.For(tenant.Id, 2));
        Assert.Equal("2", NumberOf((await ReadAsync(first, 1))[0]));
        Assert.False(second.Events.TryRead(out _));
    }

    [Fact]
    public async Task An_event_whose_transaction_commits_after_a_later_ones_is_still_sent()
    {
        var tenant = await fixture.Database.CreateTenantAsync();
        using var subscription = await _feed.SubscribeAsync(tenant.Id, CancellationToken.None);

        // The first transaction takes the lower position but commits last.
        await using var slow = await _tenants.BeginAsync(tenant.Id, CancellationToken.None);
        await EventOutbox.EnqueueAsync(slow, Pinged.For(tenant.Id, 1), CancellationToken.None);
        await CommitAsync(tenant.Id, Pinged.For(tenant.Id, 2));
        Assert.Equal("2", NumberOf((await ReadAsync(subscription, 1))[0]));
        await slow.CommitAsync(CancellationToken.None);

        var late = (await ReadAsync(subscription, 1))[0];
        Assert.Equal("1", NumberOf(late));
        Assert.False(await HasMoreAsync(subscription));
    }

    private async Task CommitAsync(Guid tenantId, params IntegrationEvent[] events)
    {
        await using var unitOfWork = await _tenants.BeginAsync(tenantId, CancellationToken.None);
        foreach (var integrationEvent in events)
        {
            await EventOutbox.EnqueueAsync(unitOfWork, integrationEvent, CancellationToken.None);
        }

        await unitOfWork.CommitAsync(CancellationToken.None);
    }

    private static async Task<List<LiveEvent>> ReadAsync(LiveSubscription subscription, int count)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var events = new List<LiveEvent>();
        while (events.Count < count)
        {
            events.Add(await subscription.Events.ReadAsync(timeout.Token));
        }

        return events;
    }

    // Nothing more arrives within a generous moment (notifications take milliseconds).
    private static async Task<bool> HasMoreAsync(LiveSubscription subscription)
    {
        using var moment = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        try
        {
            return await subscription.Events.WaitToReadAsync(moment.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static string NumberOf(LiveEvent liveEvent) =>
        System.Text.Json.JsonDocument.Parse(liveEvent.PayloadJson).RootElement.EnumerateObject()
            .First(p => p.NameEquals("number") || p.NameEquals("Number")).Value.GetRawText();
}
