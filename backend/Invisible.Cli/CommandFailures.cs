using System.CommandLine;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Invisible.Cli.Commands;
using Invisible.Data.Migrations;
using Invisible.Platform.Secrets;
using Npgsql;

namespace Invisible.Cli;

/// <summary>
/// The one place where a verb's exception becomes what a person at a terminal (or a script) reads: one line on standard
/// error, <c>invisible VERB: could not run: CAUSE. WHAT TO DO</c>, and exit code <see cref="CouldNotRun"/>. The stack trace
/// only with <c>--verbose</c>. Infrastructure failures (database unreachable or refusing, embedded cluster not starting, data
/// directory not writable, migrations that do not fit, a broken secrets file) name their cause; anything else is a bug and
/// says so ("unexpected error"), with the same exit code. Passwords from connection strings never reach the terminal.
/// </summary>
internal static partial class CommandFailures
{
    /// <summary>The verb could not run: infrastructure failed, or a bug. Distinct from 1 rejected, 2 usage, 3 server refused.</summary>
    public const int CouldNotRun = 4;

    /// <summary>Interrupted (Ctrl-C), the shell's convention of 128 + SIGINT.</summary>
    public const int Interrupted = 130;

    private const string VerboseHint = "Run with --verbose for the stack trace.";

    /// <summary>Writes the failure of the verb <paramref name="parse"/> invoked to standard error and returns the exit code.</summary>
    public static int Report(ParseResult parse, Exception exception)
    {
        var verbose = parse.GetValue(CommonOptions.Verbose);
        var verb = VerbOf(parse);
        string line;
        int exitCode;
        if (IsCancellation(exception))
        {
            line = $"{verb}: interrupted.";
            exitCode = Interrupted;
        }
        else if (Classify(exception) is { } failure)
        {
            line = $"{verb}: could not run: {Sentence(failure.Cause)} {failure.WhatToDo}" + (verbose ? string.Empty : $" {VerboseHint}");
            exitCode = CouldNotRun;
        }
        else
        {
            var innermost = Innermost(exception);
            line = $"{verb}: could not run: unexpected error (a bug in Invisible, not something you did): {innermost.GetType().Name}: " +
                   $"{Sentence(FirstLine(innermost.Message))} " +
                   (verbose ? "Please report it with the details above." : "Run with --verbose for the stack trace and report it.");
            exitCode = CouldNotRun;
        }

        if (verbose)
        {
            Console.Error.WriteLine(Redact(exception.ToString()));
        }

        Console.Error.WriteLine(Redact(line));
        return exitCode;
    }

    /// <summary>A known infrastructure failure in words, or null for anything else (a bug).</summary>
    internal static (string Cause, string WhatToDo)? Classify(Exception exception)
    {
        foreach (var current in Chain(exception))
        {
            switch (current)
            {
                case MigrationException migration:
                    return ($"the database does not fit this build's migrations: {FirstLine(migration.Message)}",
                        "Use the build that migrated this database, or a database of its own.");
                case PostgresException postgres when Database(postgres) is { } refused:
                    return refused;
                case NpgsqlException npgsql when npgsql is not PostgresException && IsConnectionFailure(npgsql):
                    return ($"cannot reach the database ({FirstLine(npgsql.Message)}: {FirstLine(Innermost(npgsql).Message)})",
                        "Check that PostgreSQL is running and reachable at the address in ConnectionStrings:Postgres / PostgresApp " +
                        "(or unset them to use the embedded cluster).");
                case SecretNotFoundException secret:
                    return ($"{FirstLine(secret.Message)}", "Restore the secrets file of this data directory from a backup, or define the secret.");
                case InvalidDataException invalid when invalid.Message.Contains("secret", StringComparison.OrdinalIgnoreCase):
                    return ($"a secrets file cannot be read: {FirstLine(invalid.Message)}", "Restore it from a backup (it holds the database passwords and signing keys).");
                case InvalidOperationException when FromNamespace(current, "Invisible.Data.Embedded"):
                    return ($"the embedded PostgreSQL cluster did not start: {EmbeddedCause(current.Message)}",
                        "See the server log it names and DIR/logs/invisible.log of --data-dir.");
                case InvalidOperationException when FromNamespace(current, "Invisible.Server.Database"):
                    return ($"the database is not configured correctly: {FirstLine(current.Message)}", "Fix the configuration named above.");
                case UnauthorizedAccessException denied:
                    return ($"permission denied: {FirstLine(denied.Message)}",
                        "Choose a --data-dir this user may write, or give this user access to it.");
                case IOException io when IsDiskFull(io):
                    return ($"the disk is full: {FirstLine(io.Message)}", "Free some space, or choose a --data-dir on another disk.");
                case IOException io when io.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase):
                    return ($"{FirstLine(io.Message)}", "Choose another --port / --grpc-port (0 picks a free one), or stop what listens there.");
                case IOException io when io.GetType() == typeof(IOException) || io is DirectoryNotFoundException or PathTooLongException:
                    return ($"cannot write or read a file: {FirstLine(io.Message)}",
                        "Check --data-dir: it must be a directory (or a path that can become one) that this user may write.");
                case SocketException socket:
                    return ($"network failure: {FirstLine(socket.Message)}", "Check the addresses and ports configured.");
                case TimeoutException timeout:
                    return ($"timed out: {FirstLine(timeout.Message)}", "Check that the database is running and not overloaded, then try again.");
            }
        }

        return null;
    }

    private static (string Cause, string WhatToDo)? Database(PostgresException postgres) => postgres.SqlState switch
    {
        PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification =>
            ($"the database refused the login ({postgres.SqlState}: {postgres.MessageText})",
                "Check the user name and password in ConnectionStrings:Postgres / PostgresApp."),
        PostgresErrorCodes.InvalidCatalogName =>
            ($"the database does not exist ({postgres.SqlState}: {postgres.MessageText})",
                "Create it, or correct the Database in ConnectionStrings:Postgres / PostgresApp."),
        PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown =>
            ($"the database is not accepting connections ({postgres.SqlState}: {postgres.MessageText})",
                "Try again in a few seconds; if it persists, check the PostgreSQL server."),
        PostgresErrorCodes.InsufficientPrivilege =>
            ($"the database role lacks a privilege ({postgres.SqlState}: {postgres.MessageText})",
                "Check that ConnectionStrings:Postgres names the owner role (see README, The embedded database)."),
        PostgresErrorCodes.DiskFull =>
            ($"the database's disk is full ({postgres.SqlState}: {postgres.MessageText})", "Free space on the PostgreSQL server's disk."),
        _ => null,
    };

    private static bool IsConnectionFailure(NpgsqlException exception) =>
        exception.IsTransient || exception.InnerException is SocketException or IOException or TimeoutException;

    private static bool IsDiskFull(IOException exception) =>
        exception.HResult is 28 or unchecked((int)0x80070070) || exception.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    private static bool IsCancellation(Exception exception) =>
        exception is OperationCanceledException || exception is AggregateException aggregate && aggregate.InnerExceptions.All(IsCancellation);

    /// <summary>Thrown by code of that namespace (async state machines are nested types of it, and so count).</summary>
    private static bool FromNamespace(Exception exception, string ns) =>
        exception.TargetSite?.DeclaringType?.Namespace is { } thrownIn && (thrownIn == ns || thrownIn.StartsWith(ns + ".", StringComparison.Ordinal));

    /// <summary>The first line of the embedded cluster's message and the first line of its server log that says what went wrong.</summary>
    private static string EmbeddedCause(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var reason = lines.Skip(1).FirstOrDefault(line =>
            line.Contains("FATAL", StringComparison.Ordinal) || line.Contains("error", StringComparison.OrdinalIgnoreCase) ||
            line.Contains("could not", StringComparison.OrdinalIgnoreCase));
        return reason is null ? lines.FirstOrDefault() ?? message : $"{Sentence(lines[0])} {reason}";
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is AggregateException { InnerExceptions.Count: 1 } aggregate)
            {
                current = aggregate.InnerExceptions[0];
            }

            yield return current;
        }
    }

    private static Exception Innermost(Exception exception) => Chain(exception).Last();

    /// <summary><c>invisible import invoices</c>: the verb as typed, without its arguments.</summary>
    private static string VerbOf(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Parent is null ? "invisible" : result.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    private static string FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? string.Empty;

    /// <summary>Ends the text with one full stop, so the advice that follows reads as the next sentence.</summary>
    private static string Sentence(string text)
    {
        var trimmed = text.TrimEnd();
        return trimmed.EndsWith('.') ? trimmed : trimmed + ".";
    }

    /// <summary>Removes passwords of connection strings (the configured ones, and any <c>Password=…</c> a message quotes).</summary>
    private static string Redact(string text)
    {
        foreach (var password in ConfiguredPasswords())
        {
            text = text.Replace(password, "***", StringComparison.Ordinal);
        }

        return PasswordSetting().Replace(text, "$1=***");
    }

    private static IEnumerable<string> ConfiguredPasswords()
    {
        foreach (var name in new[] { "Postgres", "PostgresApp" })
        {
            foreach (var variable in new[] { $"ConnectionStrings__{name}", $"INVISIBLE_ConnectionStrings__{name}", $"ConnectionStrings:{name}" })
            {
                var value = Environment.GetEnvironmentVariable(variable);
                string? password = null;
                try
                {
                    password = string.IsNullOrEmpty(value) ? null : new NpgsqlConnectionStringBuilder(value).Password;
                }
                catch (ArgumentException)
                {
                    // Not a connection string this driver reads: the catch-all pattern below still removes Password=….
                }

                if (!string.IsNullOrEmpty(password))
                {
                    yield return password;
                }
            }
        }
    }

    [GeneratedRegex("(password|pwd)\\s*=\\s*[^;\\s]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordSetting();
}
