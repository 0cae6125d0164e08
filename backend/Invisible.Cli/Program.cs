using System.CommandLine;
using Invisible.Cli.Commands;
using Invisible.Cli.Logging;
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
    BenchDataCommand.Create(),
    EventsCommand.Create(),
    BenchCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    return await parse.InvokeAsync();
}

// A verb prints what its user asked for; the product's information logs (the embedded cluster starting, the web host's
// lifecycle) are kept in the data directory's log file unless --verbose asks for them here.
var terminal = Console.Error;
await using var quietTerminal = new QuietTerminal(
    terminal, QuietTerminal.LogFileOf(parse.GetValue(CommonOptions.DataDirectory)!.FullName), parse.GetValue(CommonOptions.Verbose));
Console.SetError(quietTerminal);
try
{
    // `up` owns Ctrl-C / SIGTERM through the web host, which stops the server and then the database in order.
    return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
}
finally
{
    Console.SetError(terminal);
}
