using Microsoft.Extensions.Logging.Console;

namespace Invisible.Server.Hosting;

public static class ProductLogging
{
    /// <summary>One line per entry, on standard error: standard output carries only what a command prints for its user.</summary>
    public static ILoggingBuilder AddProductConsole(this ILoggingBuilder logging) =>
        logging
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss ";
                console.ColorBehavior = LoggerColorBehavior.Disabled;
            })
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
}
