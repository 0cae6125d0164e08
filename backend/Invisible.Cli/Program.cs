using System.CommandLine;
using Invisible.Cli;
using Invisible.Cli.Commands;
using Spectre.Console;

if (Console.IsOutputRedirected)
{
    // Logs, scripts and CI read whole plain lines: no colour codes, no wrapping of URLs and passwords at a guessed width.
    AnsiConsole.Profile.Width = 400;
    AnsiConsole.Profile.Capabilities.Ansi = false;
    AnsiConsole.Profile.Capabilities.Links = false;
}

var root = new RootCommand("Invisible: invoice reconciliation for accounts payable (2- and 3-way matching, exceptions, audit).")
{
    CommonOptions.DataDirectory,
    CommonOptions.Verbose,
    UpCommand.Create(),
    ServeCommand.Create(),
    TenantCommand.Create(),
    ApiKeyCommand.Create(),
    ImportCommand.Create(),
    ReconcileCommand.Create(),
    ExportCommand.Create(),
    QuickBooksCommand.Create(),
    NotificationsCommand.Create(),
    BenchDataCommand.Create(),
    EventsCommand.Create(),
    VerifyCommand.Create(),
    BackupCommand.Create(),
    RestoreCommand.Create(),
    RetentionCommand.Create(),
    HealthCommand.Create(),
    SecurityCommand.Create(),
    ConfigCommand.Create(),
    BenchCommand.Create(),
    VendorsCommand.Create(),
};

// `up` owns Ctrl-C / SIGTERM through the web host, which stops the server and then the database in order.
// A verb that fails is one line on standard error and exit code 4 (CommandFailures), not System.CommandLine's stack trace and 1.
var parse = root.Parse(args);
try
{
    return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
}
catch (Exception exception)
{
    return CommandFailures.Report(parse, exception);
}
