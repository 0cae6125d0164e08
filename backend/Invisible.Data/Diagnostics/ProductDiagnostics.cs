using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Invisible.Data.Diagnostics;

/// <summary>
/// The product's own spans and instruments. Without a listener (no OpenTelemetry exporter configured) starting a span
/// returns null and recording a measurement does nothing, so the calls cost next to nothing.
/// </summary>
public static class ProductDiagnostics
{
    /// <summary>The name of the product's <see cref="ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string Name = "Invisible";

    /// <summary>The span attribute (and log scope) naming the tenant a span works for.</summary>
    public const string TenantAttribute = "invisible.tenant_id";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>Decisions appended, by <c>status</c> and <c>decided_by</c> (<c>engine</c> or a reviewer).</summary>
    public static readonly Counter<long> InvoicesDecided =
        Meter.CreateCounter<long>("invisible.invoices.decided", "{invoice}", "Invoice decisions appended, by status");

    /// <summary>Rows of imported files, by <c>kind</c> and <c>outcome</c> (stored, rejected, duplicate).</summary>
    public static readonly Counter<long> ImportRows =
        Meter.CreateCounter<long>("invisible.import.rows", "{row}", "Rows read from imported files, by kind and outcome");

    /// <summary>Files rejected whole, by <c>kind</c>.</summary>
    public static readonly Counter<long> ImportRejections =
        Meter.CreateCounter<long>("invisible.import.rejections", "{file}", "Imported files rejected, by kind");

    /// <summary>How long an event waited in the outbox: from its writing transaction to its delivery, by <c>topic</c>.</summary>
    public static readonly Histogram<double> OutboxLag =
        Meter.CreateHistogram<double>("invisible.outbox.lag", "s", "Delay from an event's writing transaction to its dispatch");

    /// <summary>Events moved to the dead letters, by <c>topic</c>.</summary>
    public static readonly Counter<long> DeadLetters =
        Meter.CreateCounter<long>("invisible.outbox.dead_letters", "{event}", "Events moved to the dead letters");

    /// <summary>Refused sign-ins, by <c>reason</c> (password, mfa, throttled).</summary>
    public static readonly Counter<long> SignInFailures =
        Meter.CreateCounter<long>("invisible.signin.failures", "{attempt}", "Refused sign-in attempts, by reason");

    /// <summary>Starts a span of the product for <paramref name="tenantId"/>; null when nobody listens.</summary>
    public static Activity? StartSpan(string name, Guid tenantId, ActivityKind kind = ActivityKind.Internal)
    {
        var activity = Source.StartActivity(name, kind);
        activity?.SetTag(TenantAttribute, tenantId.ToString());
        return activity;
    }
}
