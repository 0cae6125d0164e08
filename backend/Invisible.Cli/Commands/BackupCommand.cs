using System.CommandLine;
using System.Globalization;
using Invisible.Data.Backups;
using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Invisible.Server.Operations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible backup [--type full|diff|incr]</c>, <c>backup list</c>: base backups of the embedded cluster through pgBackRest.</summary>
internal static class BackupCommand
{
    public static Command Create()
    {
        var type = new Option<BackupType>("--type")
        {
            Description = "full: everything; diff: what changed since the last full backup; incr: since the last backup of any type (default).",
            DefaultValueFactory = _ => BackupType.Incr,
        };
        var command = new Command(
            "backup",
            "Take a backup of the data directory now: the database (pgBackRest, into the encrypted repository at Backup:RepositoryPath, " +
            "default DIR/backups) together with its blob store and the secrets its data depends on. WAL is archived continuously besides, " +
            "so any moment since the oldest backup can be restored (see `invisible restore`). With an external database (ConnectionStrings:Postgres) " +
            "it takes pg_dump --format=custom plus a tar of the blob store into REPOSITORY/dumps/LABEL instead (restore with pg_restore, see " +
            "docs/operations.md). Exit codes: 0 taken, 4 could not run.")
        {
            type,
            CreateList(),
            CreateVerify(),
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            var database = product.Services.GetRequiredService<DatabaseRuntime>();
            if (database.Cluster is not { } cluster)
            {
                // An external database's provider owns its point-in-time recovery; this is the portable copy beside it.
                var options = BackupOptionsOf(product.Services.GetRequiredService<IConfiguration>());
                var dump = await Dumps(product, dataDirectory).DumpAsync(options.DumpConnectionString ?? database.ConnectionStrings.OwnerConnectionString, cancellationToken);
                AnsiConsole.MarkupLine(
                    $"External database: dump {Markup.Escape(dump.Label)} taken with pg_dump --format=custom ({Size(dump.DatabaseBytes)}) and the blob store " +
                    $"({Size(dump.BlobBytes)}) in {Markup.Escape(dump.Folder)}. Restore with pg_restore (docs/operations.md); point-in-time recovery is the provider's.");
                return 0;
            }

            var backup = await Backups(product, dataDirectory).BackupAsync(cluster, DatabaseRuntime.EmbeddedDatabaseName, parse.GetValue(type), cancellationToken);
            AnsiConsole.MarkupLine(
                $"Backup {Markup.Escape(backup.Label)} ({backup.Type}) taken: {Size(backup.DatabaseBytes)} of database, {Size(backup.RepositoryBytes)} stored, " +
                $"{(backup.StoppedAt - backup.StartedAt).TotalSeconds:N0} s.");
            return 0;
        });
        return command;
    }

    private static Command CreateList()
    {
        var list = new Command("list", "List the repository's backups (oldest first) with their sizes, and the window a restore can reach.");
        list.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            var configuration = ProductConfiguration();
            if (!string.IsNullOrWhiteSpace(configuration.GetConnectionString("Postgres")))
            {
                var dumps = new ExternalDatabaseDumps(dataDirectory, BackupOptionsOf(configuration), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).List();
                if (dumps.Count == 0)
                {
                    AnsiConsole.MarkupLine("External database: no dumps yet. `invisible backup` takes one; point-in-time recovery is the provider's.");
                    return 0;
                }

                var dumpTable = new Table().AddColumns("label", "taken (UTC)", "database", "blobs", "folder");
                foreach (var dump in dumps)
                {
                    dumpTable.AddRow(Markup.Escape(dump.Label), Moment(dump.TakenAt), Size(dump.DatabaseBytes), Size(dump.BlobBytes), Markup.Escape(dump.Folder));
                }

                AnsiConsole.Write(dumpTable);
                return 0;
            }

            var catalog = await Backups(configuration, dataDirectory).ListAsync(cancellationToken);
            if (catalog.Backups.Count == 0)
            {
                AnsiConsole.MarkupLine("No backups yet. `invisible backup --type full` takes the first.");
                return 0;
            }

            var table = new Table().AddColumns("label", "type", "started (UTC)", "took", "database", "stored");
            foreach (var backup in catalog.Backups)
            {
                table.AddRow(
                    Markup.Escape(backup.Label), backup.Type, Moment(backup.StartedAt),
                    $"{(backup.StoppedAt - backup.StartedAt).TotalSeconds:N0} s", Size(backup.DatabaseBytes), Size(backup.RepositoryBytes));
            }

            AnsiConsole.Write(table);
            var end = catalog.LastArchivedAt is { } archived ? $"{Moment(archived)} (newest archived WAL {catalog.NewestWal})" : $"newest archived WAL {catalog.NewestWal}";
            AnsiConsole.MarkupLine($"Recoverable: from {Moment(catalog.Backups[0].StoppedAt)} to {Markup.Escape(end)}");
            return 0;
        });
        return list;
    }

    private static Command CreateVerify()
    {
        var verify = new Command(
            "verify",
            "The restore drill: restore the newest backup into a scratch folder (DIR/restore-drill), start the product on it, check migrations, " +
            "rows per table and every blob's SHA-256 against the manifest written at backup time, and every tenant's audit chain; print the " +
            $"measured restore time (the RTO figure), clean up. Exit codes: 0 passed, {VerifyCommand.InvariantBroken} a difference (listed), 4 could not run.");
        verify.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            var logging = CommonOptions.Logging(parse);
            using var loggers = ProductLogging.CreateBootLoggers(ProductConfiguration(), dataDirectory, logging);
            await Backups(ProductConfiguration(), dataDirectory, loggers).FlushArchiveAsync(cancellationToken);
            var report = await new RestoreDrill(dataDirectory, loggers.CreateLogger<RestoreDrill>()).RunAsync(logging, cancellationToken);
            AnsiConsole.MarkupLine(report.BackupLabel is null
                ? "Restore drill: the newest backup could not be restored."
                : $"Restore drill of backup {Markup.Escape(report.BackupLabel)}: restored and started in {report.RestoreTime.TotalSeconds:N1} s (RTO); " +
                  $"{report.TablesCompared} tables, {report.BlobsCompared} blobs, {report.TenantsVerified} tenants' audit chains compared.");
            if (report.Passed)
            {
                AnsiConsole.MarkupLine("[green]✓[/] the backup restores to exactly what it recorded");
                return 0;
            }

            foreach (var difference in report.Differences.Take(50))
            {
                AnsiConsole.MarkupLine($"[red]✗[/] {Markup.Escape(difference.Check)}: {Markup.Escape(difference.Detail)}");
            }

            await Console.Error.WriteLineAsync($"backup verify: {report.Differences.Count} difference(s) between the restored backup and its manifest.");
            return VerifyCommand.InvariantBroken;
        });
        return verify;
    }

    internal static EmbeddedBackups Backups(LocalProduct product, string dataDirectory) =>
        Backups(product.Services.GetRequiredService<IConfiguration>(), dataDirectory, product.Services.GetRequiredService<ILoggerFactory>());

    internal static BackupOptions BackupOptionsOf(IConfiguration configuration) =>
        configuration.GetSection(BackupOptions.SectionName).Get<BackupOptions>() ?? new BackupOptions();

    private static ExternalDatabaseDumps Dumps(LocalProduct product, string dataDirectory) =>
        new(dataDirectory, BackupOptionsOf(product.Services.GetRequiredService<IConfiguration>()),
            product.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ExternalDatabaseDumps>());

    internal static EmbeddedBackups Backups(IConfiguration configuration, string dataDirectory, ILoggerFactory? loggers = null) =>
        new(dataDirectory, BackupOptionsOf(configuration),
            (loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger<EmbeddedBackups>());

    /// <summary>The configuration sources <see cref="LocalProduct"/> reads, for verbs that need settings but not the database.</summary>
    internal static IConfigurationRoot ProductConfiguration() =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddEnvironmentVariables("INVISIBLE_")
            .Build();

    internal static string Moment(DateTimeOffset moment) => moment.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    internal static string Size(long bytes) => bytes switch
    {
        < 1024 * 1024 => $"{bytes / 1024.0:N1} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):N1} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):N2} GiB",
    };
}
