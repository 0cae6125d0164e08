using System.CommandLine;
using Invisible.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Invisible.Cli.Commands;

internal static class CommonOptions
{
    public static readonly Option<DirectoryInfo> DataDirectory = new("--data-dir")
    {
        Description = "Where the product keeps its database, secrets and files.",
        DefaultValueFactory = _ => new DirectoryInfo(".data"),
        HelpName = "DIR",
        Recursive = true,
    };

    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Also show the product's information logs (the embedded PostgreSQL cluster starting and stopping, requests) on the terminal. " +
                      "Without it they go only to DIR/logs/invisible.log of --data-dir; warnings and errors are always shown.",
        Recursive = true,
    };

    /// <summary>
    /// A verb prints what its user asked for: of the product's log (the embedded cluster starting and stopping, the web
    /// host's lifecycle) only warnings and errors reach the terminal, unless --verbose asks for all of it. The log file has it all.
    /// </summary>
    public static ProductLoggingOptions Logging(ParseResult parse) =>
        new(parse.GetValue(Verbose) ? LogLevel.Information : LogLevel.Warning);

    public static readonly Option<string> Tenant = new("--tenant")
    {
        Description = "The tenant to act on (local use; with --server the API key's tenant).",
        DefaultValueFactory = _ => "demo",
        HelpName = "SLUG",
    };

    // Read from the environment by the remote plumbing, not as default values: help output would show the key otherwise.
    public static readonly Option<string?> Server = new("--server")
    {
        Description = "Call this Invisible server instead of using the local data directory, e.g. https://invisible.example.com (default: $INVISIBLE_SERVER). " +
                      "Exit code 3 when the server refuses the call or cannot be reached.",
        HelpName = "URL",
    };

    public static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = "The API key for --server (default: $INVISIBLE_API_KEY, which keeps it off the command line and out of shell history).",
        HelpName = "KEY",
    };
}
