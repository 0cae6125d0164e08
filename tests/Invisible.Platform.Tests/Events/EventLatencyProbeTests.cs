using Invisible.Platform.Events;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Invisible.Platform.Tests.Events;

/// <summary>The probe behind <c>./invisible bench events</c> works; the figures themselves are the benchmark's business.</summary>
public sealed class EventLatencyProbeTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task The_probe_delivers_every_event_it_commits_and_reports_ordered_percentiles()
    {
        var tenant = await fixture.Database.CreateTenantAsync("latency-probe");

        var report = await EventLatencyProbe.MeasureAsync(fixture.Database.AppDataSource, tenant.Id, events: 200, eventsPerSecond: 400, NullLoggerFactory.Instance, TestTimeout.Token);

        Assert.Equal(200, report.Delivered);
        Assert.InRange(report.P50Milliseconds, 0.0, report.P99Milliseconds);
        Assert.InRange(report.P99Milliseconds, report.P50Milliseconds, report.MaxMilliseconds);
        Assert.True(report.DeliveredPerSecond > 0);
        Assert.InRange(report.CommittedPerSecond, 1, 400 * 1.5);
    }

    [Fact]
    public async Task The_drain_probe_delivers_every_waiting_event_and_reports_a_rate()
    {
        var tenant = await fixture.Database.CreateTenantAsync("drain-probe");

        var report = await EventLatencyProbe.MeasureDrainAsync(fixture.Database.AppDataSource, tenant.Id, events: 250, NullLoggerFactory.Instance, TestTimeout.Token);

        Assert.Equal(250, report.Delivered);
        Assert.True(report.DeliveredPerSecond > 0);
    }
}
