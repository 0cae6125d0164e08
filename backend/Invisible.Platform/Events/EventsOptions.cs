using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Invisible.Platform.Events;

/// <summary>The <c>Events</c> configuration section: outbox dispatch and retries.</summary>
public sealed class EventsOptions
{
    public const string SectionName = "Events";

    /// <summary>Failed deliveries after which an event moves to the dead-letter table.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Wait after the first failure; it doubles with each further failure up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the dispatcher looks at the outbox when no notification wakes it (a lost NOTIFY, a retry falling due).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>How many tenants' batches one dispatcher delivers at the same time (each tenant's own events stay in order).</summary>
    [Range(1, 64)]
    public int DispatchConcurrency { get; set; } = 4;

    /// <summary>
    /// Whether this process runs the outbox dispatcher and the outbox/inbox clean-up (any number of processes may; they
    /// share the work).
    /// </summary>
    public bool DispatcherEnabled { get; set; } = true;

    /// <summary>
    /// <see cref="DispatcherEnabled"/> as configured, read at registration time: whether this process runs background
    /// work (the <c>worker</c> and <c>all</c> roles), so hosted services are registered only where they run.
    /// </summary>
    public static bool DispatcherEnabledIn(IConfiguration configuration) =>
        configuration.GetSection(SectionName).Get<EventsOptions>()?.DispatcherEnabled ?? true;

    /// <summary>
    /// How long delivered outbox rows and inbox rows are kept. An inbox row is what recognises a redelivery, so this must
    /// outlast any redelivery: the broker's retries (minutes) and a restart; the inbox rows of dead-lettered events are kept
    /// until the dead letter is redriven or removed.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the workers remove what is older than <see cref="Retention"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows removed per statement (and transaction), so the clean-up never holds long locks or bloats one transaction.</summary>
    [Range(1, 100_000)]
    public int RetentionBatchSize { get; set; } = 5_000;

    public TimeSpan RetryDelayAfter(int failedAttempts)
    {
        var delay = RetryBaseDelay * Math.Pow(2, Math.Min(failedAttempts - 1, 30));
        return delay < MaxRetryDelay ? delay : MaxRetryDelay;
    }
}
