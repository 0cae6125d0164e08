using Invisible.Platform.Embedded;
using Invisible.Platform.State;
using Invisible.Testing;

namespace Invisible.Platform.Tests.Embedded;

/// <summary>Embedded mode's state store on the <c>state_entries</c> table, with the same concurrency rules as Dapr's.</summary>
public sealed class PostgresStateStoreTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private PostgresStateStore Store => new PostgresStateStore(fixture.Database.AppDataSource);

    private static CancellationToken Ct => TestTimeout.Token;

    [Fact]
    public async Task A_saved_value_reads_back_with_an_etag_that_changes_on_every_write()
    {
        await Store.SaveAsync("idempotency/a", new Reservation("INV-1", 3), null, Ct);
        var first = await Store.GetAsync<Reservation>("idempotency/a", Ct);
        await Store.SaveAsync("idempotency/a", new Reservation("INV-1", 4), null, Ct);
        var second = await Store.GetAsync<Reservation>("idempotency/a", Ct);

        Assert.Equal(new Reservation("INV-1", 3), first!.Value);
        Assert.Equal(new Reservation("INV-1", 4), second!.Value);
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Null(await Store.GetAsync<Reservation>("idempotency/none", Ct));
    }

    [Fact]
    public async Task Of_two_writers_holding_the_same_etag_only_the_first_wins()
    {
        await Store.SaveAsync("counter", 0, null, Ct);
        var read = await Store.GetAsync<int>("counter", Ct);

        await Store.SaveAsync("counter", 1, new StateWriteOptions(read!.ETag), Ct);
        await Assert.ThrowsAsync<StateConcurrencyException>(() => Store.SaveAsync("counter", 2, new StateWriteOptions(read.ETag), Ct));
        await Assert.ThrowsAsync<StateConcurrencyException>(() => Store.SaveAsync("counter", 2, new StateWriteOptions("not-an-etag-we-issued"), Ct));
        await Assert.ThrowsAsync<StateConcurrencyException>(() => Store.SaveAsync("never-written", 2, new StateWriteOptions(read.ETag), Ct));

        Assert.Equal(1, (await Store.GetAsync<int>("counter", Ct))!.Value);
    }

    [Fact]
    public async Task Delete_with_a_stale_etag_fails_and_without_one_always_succeeds()
    {
        await Store.SaveAsync("upload", "x", null, Ct);
        var read = await Store.GetAsync<string>("upload", Ct);
        await Store.SaveAsync("upload", "y", null, Ct);

        await Assert.ThrowsAsync<StateConcurrencyException>(() => Store.DeleteAsync("upload", read!.ETag, Ct));
        await Store.DeleteAsync("upload", null, Ct);
        await Store.DeleteAsync("upload", null, Ct);

        Assert.Null(await Store.GetAsync<string>("upload", Ct));
    }

    [Fact]
    public async Task An_entry_past_its_time_to_live_reads_as_missing()
    {
        // Long enough that a busy machine (test assemblies run side by side) still reads it back before it expires.
        await Store.SaveAsync("short-lived", "x", new StateWriteOptions(TimeToLive: TimeSpan.FromSeconds(1)), Ct);
        await Store.SaveAsync("long-lived", "y", new StateWriteOptions(TimeToLive: TimeSpan.FromHours(1)), Ct);
        Assert.NotNull(await Store.GetAsync<string>("short-lived", Ct));

        await Task.Delay(TimeSpan.FromSeconds(1.2));

        Assert.Null(await Store.GetAsync<string>("short-lived", Ct));
        Assert.NotNull(await Store.GetAsync<string>("long-lived", Ct));
    }

    [Fact]
    public async Task A_transaction_with_one_stale_etag_applies_nothing()
    {
        await Store.SaveAsync("t/a", 1, null, Ct);
        await Store.SaveAsync("t/b", 1, null, Ct);

        await Assert.ThrowsAsync<StateConcurrencyException>(() => Store.ExecuteTransactionAsync(
            [StateOperation.Upsert("t/a", 2), StateOperation.Upsert("t/c", 2), StateOperation.Delete("t/b", "stale")], Ct));

        Assert.Equal(1, (await Store.GetAsync<int>("t/a", Ct))!.Value);
        Assert.Null(await Store.GetAsync<int?>("t/c", Ct));

        await Store.ExecuteTransactionAsync([StateOperation.Upsert("t/a", 2), StateOperation.Delete("t/b")], Ct);
        Assert.Equal(2, (await Store.GetAsync<int>("t/a", Ct))!.Value);
        Assert.Null(await Store.GetAsync<int?>("t/b", Ct));
    }

    private sealed record Reservation(string InvoiceNumber, int Lines);
}
