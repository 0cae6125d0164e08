using Invisible.Testing;
using LinqToDB.Data;
using Invisible.Platform.Events;
using Npgsql;

namespace Invisible.Platform.Tests.Events;

[IntegrationEvent("receipt-posted")]
public sealed record ReceiptPosted(Guid Id, Guid TenantId, DateTimeOffset OccurredAt, string ReceiptNumber) : IntegrationEvent(Id, TenantId, OccurredAt)
{
    public static ReceiptPosted For(Guid tenantId, string receiptNumber) => new(Guid.NewGuid(), tenantId, DateTimeOffset.UtcNow, receiptNumber);
}

/// <summary>Lets a test make handlers fail, and see how often they were called.</summary>
public sealed class HandlerSwitch
{
    private int _calls;
    private volatile bool _fail;

    /// <summary>The <c>traceparent</c> of the last event handled.</summary>
    public string? LastTraceParent { get; set; }

    public bool Fail
    {
        get => _fail;
        set => _fail = value;
    }

    /// <summary>Fails only the event with this receipt number, after its write.</summary>
    public string? FailOnlyOn { get; init; }

    /// <summary>How long each call takes, so a test can act while a dispatch is in flight.</summary>
    public TimeSpan Delay { get; init; }

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>The event with this receipt number waits in its handler until <see cref="Release"/> completes.</summary>
    public string? HoldOn { get; init; }

    /// <summary>Completes once the held event's handler is waiting.</summary>
    public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Called() => Interlocked.Increment(ref _calls);
}

/// <summary>
/// A handler whose effect is a database write in the handler's transaction: it increments a per-event counter row, so a
/// test can count effects (1 = exactly once) independently of how often the handler was called.
/// </summary>
public sealed class EffectCountingHandler(HandlerSwitch handlerSwitch) : IIntegrationEventHandler<ReceiptPosted>
{
    public static string CounterKey(Guid eventId) => $"test-effects/{eventId}";

    public async Task HandleAsync(ReceiptPosted integrationEvent, EventHandlingContext context, CancellationToken cancellationToken)
    {
        handlerSwitch.Called();
        handlerSwitch.LastTraceParent = context.Envelope.TraceParent;
        await Task.Delay(handlerSwitch.Delay, cancellationToken);
        if (integrationEvent.ReceiptNumber == handlerSwitch.HoldOn)
        {
            handlerSwitch.Holding.TrySetResult();
            await handlerSwitch.Release.Task.WaitAsync(cancellationToken);
        }

        const string increment = """
            INSERT INTO state_entries (key, value) VALUES (@Key, '1'::jsonb)
            ON CONFLICT (key) DO UPDATE SET value = to_jsonb(state_entries.value::text::int + 1)
            """;
        await context.Db.ExecuteAsync(
            increment, new { Key = CounterKey(integrationEvent.Id) }, cancellationToken);

        // Failing after the write proves the write is rolled back with the inbox row.
        if (handlerSwitch.Fail || integrationEvent.ReceiptNumber == handlerSwitch.FailOnlyOn)
        {
            throw new InvalidOperationException($"Handler told to fail on {integrationEvent.ReceiptNumber}");
        }
    }

    /// <summary>Effects per event id: events without any effect are absent.</summary>
    public static async Task<Dictionary<Guid, int>> EffectsAsync(NpgsqlDataSource database)
    {
        await using var connection = await database.OpenConnectionAsync();
        var rows = await connection.Linq().QueryToListAsync(row => (Key: row.GetFieldValue<string>(0), Value: row.GetFieldValue<string>(1)), "SELECT key, value::text FROM state_entries WHERE key LIKE 'test-effects/%'", CancellationToken.None);
        return rows.ToDictionary(row => Guid.Parse(row.Key["test-effects/".Length..]), row => int.Parse(row.Value));
    }
}
