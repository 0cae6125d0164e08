using Invisible.Data.Access;
using System.Diagnostics.Metrics;
using LinqToDB.Data;
using Invisible.Data.Diagnostics;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Invisible.Server.Hosting;

/// <summary>
/// Traces, metrics and logs through OpenTelemetry, configured only by the standard <c>OTEL_*</c> settings (environment
/// variables, or the same keys in any configuration source). A signal is exported over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or its own <c>OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT</c> is set; with
/// none set nothing of OpenTelemetry is registered, so nothing listens and the product's spans and instruments cost
/// nothing. The exporter reads the protocol, headers, timeouts and batch settings itself; nothing here overrides them.
/// </summary>
public static class ProductTelemetry
{
    private const string GrpcInstrumentationFlag = "OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_ENABLE_GRPC_INSTRUMENTATION";

    /// <summary>Whether <paramref name="signal"/> (<c>TRACES</c>, <c>METRICS</c>, <c>LOGS</c>) has an OTLP endpoint.</summary>
    public static bool Exports(IConfiguration configuration, string signal) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);

    /// <summary><c>OTEL_SERVICE_NAME</c> when set; else <c>invisible-api</c>, <c>invisible-worker</c> or (role all) <c>invisible</c>.</summary>
    public static string ServiceName(IConfiguration configuration, ServerRole role) =>
        configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } configured ? configured : role switch
        {
            ServerRole.Api => "invisible-api",
            ServerRole.Worker => "invisible-worker",
            _ => "invisible",
        };

    /// <summary>Registers the exporting providers for what is configured (nothing when no endpoint is).</summary>
    /// <remarks>Logs are added by <see cref="ProductLogging"/>, the one place logging is configured; the resource set here applies to them too.</remarks>
    /// <param name="scrapeEndpoint">The web host serves <c>GET /metrics</c> (Prometheus exposition, <c>Operations/OperationsRegistration.cs</c>), so the meters are on without OTLP too.</param>
    public static IServiceCollection AddProductTelemetry(this IServiceCollection services, IConfiguration configuration, ServerRole role, bool scrapeEndpoint = false)
    {
        var traces = Exports(configuration, "TRACES");
        var otlpMetrics = Exports(configuration, "METRICS");
        var metrics = otlpMetrics || scrapeEndpoint;
        if (!traces && !metrics && !Exports(configuration, "LOGS"))
        {
            return services;
        }

        // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by the default resource; the role's name only when unset.
        var serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } ? null : ServiceName(configuration, role);
        var telemetry = services.AddOpenTelemetry().ConfigureResource(resource =>
        {
            if (serviceName is not null)
            {
                resource.AddService(serviceName, serviceVersion: typeof(ProductTelemetry).Assembly.GetName().Version?.ToString());
            }

            resource.AddAttributes([new("invisible.role", role.ToString().ToLowerInvariant())]);
        });
        if (traces)
        {
            // rpc.* attributes on the spans of gRPC calls (still an experimental flag of the instrumentation, read from the
            // configuration); on unless the operator set it.
            if (configuration[GrpcInstrumentationFlag] is null && configuration is IConfigurationBuilder builder)
            {
                builder.AddInMemoryCollection([new(GrpcInstrumentationFlag, "true")]);
            }

            telemetry.WithTracing(tracing => tracing
                .AddSource(ProductDiagnostics.Name)
                .AddAspNetCoreInstrumentation(aspNetCore =>
                {
                    // Health probes every few seconds would drown the traces that matter.
                    aspNetCore.Filter = context => !context.Request.Path.StartsWithSegments("/healthz") && !context.Request.Path.StartsWithSegments("/readyz");
                })
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter());
        }

        if (metrics)
        {
            telemetry.WithMetrics(meters =>
            {
                meters
                    .AddMeter(ProductDiagnostics.Name)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation();
                if (otlpMetrics)
                {
                    meters.AddOtlpExporter();
                }

                if (scrapeEndpoint)
                {
                    meters.AddPrometheusExporter();
                }
            });
            services.AddSingleton<OperationalGauges>();
            services.AddHostedService(provider => provider.GetRequiredService<OperationalGauges>());
        }

        return services;
    }
}

/// <summary>
/// The observable gauges of the <c>Invisible</c> meter that need the database: open exceptions by age bucket and the
/// touchless rate over all tenants (<c>operational_metrics()</c>, migration 0014). A collection reports the last values
/// read and, when they are older than <see cref="MaxAge"/>, starts one refresh in the background: however often the
/// metrics are collected, the database is asked at most once per 30 s.
/// </summary>
internal sealed class OperationalGauges : IHostedService, IDisposable
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    private readonly NpgsqlDataSource _database;
    private readonly ILogger<OperationalGauges> _logger;
    private readonly Meter _meter;
    private readonly CancellationTokenSource _stopping = new();
    private Snapshot? _snapshot;
    // Far enough in the past that the first collection reads (long.MinValue would overflow the subtraction).
    private long _readAt = -10 * (long)MaxAge.TotalMilliseconds;
    private int _refreshing;
    private int _disposed;

    public OperationalGauges(NpgsqlDataSource database, IMeterFactory meters, ILogger<OperationalGauges> logger)
    {
        _database = database;
        _logger = logger;
        _meter = meters.Create(ProductDiagnostics.Name);
        _meter.CreateObservableGauge("invisible.exceptions.open", ObserveOpenExceptions, "{exception}", "Open or in-review exceptions, by age bucket in days");
        _meter.CreateObservableGauge("invisible.invoices.touchless_rate", ObserveTouchlessRate, "1", "Invoices matched without entering the exception queue, over decided invoices");
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        RefreshIfStale();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    // Called twice: the container disposes the singleton and the hosted service it also handed out.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Cancel();
            _meter.Dispose();
        }
    }

    private IEnumerable<Measurement<long>> ObserveOpenExceptions()
    {
        RefreshIfStale();
        return _snapshot?.OpenExceptions.Select(bucket => new Measurement<long>(bucket.Value, new KeyValuePair<string, object?>("age", bucket.Key))) ?? [];
    }

    private IEnumerable<Measurement<double>> ObserveTouchlessRate()
    {
        RefreshIfStale();
        return _snapshot is { } snapshot ? [new Measurement<double>(snapshot.Decided == 0 ? 0 : (double)snapshot.Touchless / snapshot.Decided)] : [];
    }

    private void RefreshIfStale()
    {
        var now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _readAt) < MaxAge.TotalMilliseconds || _stopping.IsCancellationRequested
            || Interlocked.Exchange(ref _refreshing, 1) == 1)
        {
            return;
        }

        Interlocked.Exchange(ref _readAt, now);
        _ = Task.Run(async () =>
        {
            try
            {
                await using var connection = await _database.OpenConnectionAsync(_stopping.Token);
                await using var db = ProductData.On(connection);
                // SQL: operational_metrics() is a SECURITY DEFINER function that reads across tenants.
                var rows = await db.QueryToListAsync(
                    reader => (Metric: reader.GetString(0), Label: reader.GetString(1), Value: reader.GetInt64(2)),
                    "select metric, label, value from operational_metrics()", _stopping.Token);
                _snapshot = new Snapshot(
                    rows.Where(row => row.Metric == "open_exceptions").ToDictionary(row => row.Label, row => row.Value, StringComparer.Ordinal),
                    rows.Where(row => row.Metric == "invoices_decided").Sum(row => row.Value),
                    rows.Where(row => row.Metric == "invoices_touchless").Sum(row => row.Value));
            }
            catch (Exception e) when (!_stopping.IsCancellationRequested)
            {
                // The database restarting or unreachable: the gauges keep their last values; the next collection after MaxAge retries.
                _logger.LogWarning(e, "Could not read the operational metrics for the gauges; retrying in {MaxAge}", MaxAge);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                // Shutting down.
            }
            finally
            {
                Volatile.Write(ref _refreshing, 0);
            }
        });
    }

    private sealed record Snapshot(IReadOnlyDictionary<string, long> OpenExceptions, long Decided, long Touchless);
}
