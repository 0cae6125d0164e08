using OpenTelemetry.Logs;

namespace Invisible.Server.Hosting;

/// <summary>How much of the product's logging a person at the terminal sees; everything configured is kept in the log file.</summary>
/// <param name="TerminalMinimumLevel">
/// The least severe entry written to standard error. <see cref="LogLevel.Information"/> for servers and tests, whose output
/// is a log; <see cref="LogLevel.Warning"/> for command-line verbs, whose output is what their user asked for.
/// </param>
public sealed record ProductLoggingOptions(LogLevel TerminalMinimumLevel)
{
    /// <summary>Everything the configuration lets through, on the terminal as well as in the file.</summary>
    public static ProductLoggingOptions Default { get; } = new(LogLevel.Information);
}

/// <summary>
/// The product's logging, for every host (<see cref="InvisibleServer"/>, <see cref="LocalProduct"/>, the loggers used while
/// the database starts): the <c>Logging</c> configuration section decides what is logged; all of it goes to
/// <c>DATA_DIR/logs/invisible.log</c>, and what reaches <see cref="ProductLoggingOptions.TerminalMinimumLevel"/> also to
/// standard error (standard output carries only what a command prints for its user).
/// </summary>
public static class ProductLogging
{
    /// <summary>Where the log file of <paramref name="dataDirectory"/> is.</summary>
    public static string LogFileIn(string dataDirectory) => Path.Combine(dataDirectory, "logs", "invisible.log");

    /// <summary>Replaces the builder's providers with the product's file and terminal loggers.</summary>
    /// <remarks>The level configuration is the caller's: a web host reads the <c>Logging</c> section itself.</remarks>
    public static ILoggingBuilder AddProductLogging(this ILoggingBuilder logging, string dataDirectory, ProductLoggingOptions options)
    {
        var logFile = LogFileIn(Path.GetFullPath(dataDirectory));
        logging.ClearProviders();
        // Registered as factories, not instances, so the container disposes (and closes) them with the host.
        logging.Services.AddSingleton<ILoggerProvider>(_ => new ProductLogFileProvider(logFile));
        logging.Services.AddSingleton<ILoggerProvider>(_ => new TerminalLoggerProvider(options.TerminalMinimumLevel));
        return logging;
    }

    /// <summary>
    /// The product's file and terminal loggers and, when an OTLP endpoint for logs is configured (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
    /// or <c>OTEL_EXPORTER_OTLP_LOGS_ENDPOINT</c>, see <see cref="ProductTelemetry"/>), OpenTelemetry's logger exporting the same
    /// entries over OTLP, correlated with the current span. Loggers of the boot phase (<see cref="CreateBootLoggers"/>) are not exported.
    /// </summary>
    public static ILoggingBuilder AddProductLogging(this ILoggingBuilder logging, string dataDirectory, ProductLoggingOptions options, IConfiguration configuration)
    {
        logging.AddProductLogging(dataDirectory, options);
        if (ProductTelemetry.Exports(configuration, "LOGS"))
        {
            logging.AddOpenTelemetry(openTelemetry =>
            {
                openTelemetry.IncludeFormattedMessage = true;
                openTelemetry.IncludeScopes = true;
                openTelemetry.AddOtlpExporter();
            });
        }

        return logging;
    }

    /// <summary>
    /// Loggers for what runs before a host's services exist (the embedded cluster starting, migrations), configured as the
    /// host's own. The caller keeps them as long as what it gave them to (the cluster logs its stop with them).
    /// </summary>
    public static ILoggerFactory CreateBootLoggers(IConfiguration configuration, string dataDirectory, ProductLoggingOptions options) =>
        LoggerFactory.Create(logging => logging
            .AddConfiguration(configuration.GetSection("Logging"))
            .AddProductLogging(dataDirectory, options));

    /// <summary>The product's terminal logger alone, for hosts without a data directory (benchmark baselines).</summary>
    public static ILoggingBuilder AddProductConsole(this ILoggingBuilder logging)
    {
        logging.Services.AddSingleton<ILoggerProvider>(_ => new TerminalLoggerProvider(LogLevel.Information));
        return logging;
    }
}
