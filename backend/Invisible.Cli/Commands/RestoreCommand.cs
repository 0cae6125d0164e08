using System.CommandLine;
using System.Globalization;
using Invisible.Data.Backups;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible restore --from DATA_DIR_OR_REPO --data-dir NEW [--to MOMENT|latest]</c>: point-in-time recovery into a new data directory.</summary>
internal static class RestoreCommand
{
    public const int Refused = 2;

    public static Command Create()
    {
        var from = new Option<string>("--from")
        {
            Description = "The data directory whose backups to restore, or a bare pgBackRest repository folder (then with --passphrase-file).",
            HelpName = "DATA_DIR_OR_REPO",
            Required = true,
        };
        var to = new Option<string>("--to")
        {
            Description = "The moment to restore, 'YYYY-MM-DD HH:MM:SS+00' (UTC), or 'latest' for the end of the archived WAL (default).",
            HelpName = "MOMENT",
            DefaultValueFactory = _ => "latest",
        };
        var passphraseFile = new Option<FileInfo?>("--passphrase-file")
        {
            Description = "A file holding the repository's passphrase, for a bare repository (default: $INVISIBLE_BACKUP_PASSPHRASE).",
            HelpName = "FILE",
        };
        var command = new Command(
            "restore",
            "Build a new data directory (--data-dir) from backups: the database as it was at --to, with the blob store and secrets of the " +
            "backup it starts from; `invisible up --data-dir NEW` then serves it. Refuses a --data-dir that already holds a database. " +
            $"Prints the time the restore took. Exit codes: 0 restored, {Refused} refused (names why), 4 could not run.")
        {
            from, to, passphraseFile,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(to)!;
            DateTimeOffset? pointInTime = null;
            if (!target.Equals("latest", StringComparison.OrdinalIgnoreCase))
            {
                if (!DateTimeOffset.TryParse(target, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                {
                    await Console.Error.WriteLineAsync($"restore: --to '{target}' is neither 'latest' nor a moment like '2026-12-07 14:30:00+00'.");
                    return Refused;
                }

                pointInTime = parsed;
            }

            var passphrase = parse.GetValue(passphraseFile) is { } file
                ? (await File.ReadAllTextAsync(file.FullName, cancellationToken)).Trim()
                : Environment.GetEnvironmentVariable("INVISIBLE_BACKUP_PASSPHRASE");
            var request = new RestoreRequest(parse.GetValue(from)!, parse.GetValue(CommonOptions.DataDirectory)!.FullName, pointInTime, CipherPassphrase: passphrase);
            try
            {
                if (Directory.Exists(Path.Combine(request.From, "pgbackrest")))
                {
                    await BackupCommand.Backups(BackupCommand.ProductConfiguration(), request.From).FlushArchiveAsync(cancellationToken);
                }

                var restored = await EmbeddedBackups.RestoreAsync(request, NullLogger.Instance, cancellationToken);
                AnsiConsole.MarkupLine(
                    $"Restored {Markup.Escape(request.DataDirectory)} from backup {Markup.Escape(restored.Backup.Label)} " +
                    $"to {(pointInTime is { } moment ? BackupCommand.Moment(moment) + " UTC" : "the end of the archived WAL")} " +
                    $"in {restored.Elapsed.TotalSeconds:N1} s. Start it with: invisible up --data-dir {Markup.Escape(request.DataDirectory)}");
                return 0;
            }
            catch (RestoreRefusedException refused)
            {
                await Console.Error.WriteLineAsync($"restore: {refused.Message}");
                return Refused;
            }
        });
        return command;
    }
}
