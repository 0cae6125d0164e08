using System.CommandLine;
using System.Globalization;
using Invisible.Cli.Remote;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Invisible.Server.Tenancy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible import vendors|purchase-orders|receipts|invoices FILE</c>: the same import as the upload in the web app.</summary>
internal static class ImportCommand
{
    public const int Rejected = 1;
    public const int UsageError = 2;
    private const int ListedErrors = 50;

    private static readonly (string Verb, DocumentKind Kind, string Description)[] Kinds =
    [
        ("vendors", DocumentKind.Vendors, "Import the vendor master (vendors.csv)."),
        ("purchase-orders", DocumentKind.PurchaseOrders, "Import purchase order lines (purchase_orders.csv); a changed PO replaces its earlier version."),
        ("receipts", DocumentKind.Receipts, "Import goods receipts (receipts.csv)."),
        ("invoices", DocumentKind.Invoices, "Import supplier invoices: invoices.csv, or an e-invoice (UBL or UN/CEFACT CII XML, or a Factur-X/ZUGFeRD/XRechnung PDF)."),
    ];

    public static Command Create()
    {
        var command = new Command(
            "import",
            "Import a canonical file for a tenant. A file is stored whole or not at all; re-importing the same file changes nothing. " +
            $"Exit codes: 0 stored or already imported, {Rejected} rejected (errors listed), {UsageError} wrong arguments.");
        foreach (var (verb, kind, description) in Kinds)
        {
            command.Subcommands.Add(CreateFor(verb, kind, description));
        }

        return command;
    }

    private static Command CreateFor(string verb, DocumentKind kind, string description)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The CSV file (UTF-8 or Windows-1252; ',', ';' or tab separated)." };
        var culture = new Option<string?>("--culture") { Description = "Culture of numbers and dates, e.g. de-DE for 1.234,56 and dd.MM.yyyy (default: detected).", HelpName = "CULTURE" };
        var delimiter = new Option<string?>("--delimiter") { Description = "Field delimiter: ',', ';' or 'tab' (default: detected).", HelpName = "CHAR" };
        var dateFormat = new Option<string?>("--date-format") { Description = "Date format such as dd.MM.yyyy or MM/dd/yyyy; ISO dates are always accepted.", HelpName = "FORMAT" };
        var encoding = new Option<string?>("--encoding") { Description = "Text encoding, e.g. windows-1252 (default: detected; a byte order mark wins).", HelpName = "NAME" };
        var map = new Option<string[]>("--map")
        {
            Description = "Read the file's own header as a canonical column, e.g. --map \"Beleg-Nr=invoice_number\"; repeat for more headers. " +
                "Headers match ignoring case, spaces and punctuation.",
            HelpName = "HEADER=COLUMN",
            AllowMultipleArgumentsPerToken = false,
        };
        var saveMapping = new Option<bool>("--save-mapping")
        {
            Description = "Save the --map entries as the tenant's column mapping for this kind of file (replacing the saved one), " +
                "so that later imports, uploads in the web app included, use it without --map.",
        };
        var command = new Command(verb, description) { file, CommonOptions.Tenant, culture, delimiter, dateFormat, encoding, map, saveMapping, CommonOptions.Server, CommonOptions.ApiKey };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                await Console.Error.WriteLineAsync($"{path.FullName}: no such file.");
                return UsageError;
            }

            ImportOptions options;
            IReadOnlyDictionary<string, string>? mapping;
            try
            {
                options = Options(parse.GetValue(culture), parse.GetValue(delimiter), parse.GetValue(dateFormat), parse.GetValue(encoding));
                mapping = Mapping(kind, parse.GetValue(map) ?? []);
            }
            catch (ArgumentException exception)
            {
                await Console.Error.WriteLineAsync(exception.Message);
                return UsageError;
            }

            if (parse.GetValue(saveMapping) && mapping is null)
            {
                await Console.Error.WriteLineAsync("--save-mapping saves the --map entries: give at least one --map HEADER=COLUMN.");
                return UsageError;
            }

            if (await RemoteServer.RunIfRequestedAsync(parse, remote => RemoteCommands.ImportAsync(remote, kind, path, options, cancellationToken)) is { } remoteExit)
            {
                return remoteExit;
            }

            var slug = parse.GetValue(CommonOptions.Tenant)!;
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            var tenant = await product.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(slug, cancellationToken);
            if (tenant is null)
            {
                await Console.Error.WriteLineAsync($"No tenant '{slug}' in {dataDirectory}; create it with `invisible tenant create {slug}`.");
                return UsageError;
            }

            var service = CreateImportService(product, dataDirectory);
            if (parse.GetValue(saveMapping))
            {
                await service.SaveColumnMappingAsync(tenant.Id, kind, mapping!, TenantOnboarding.OperatorActor, requestId: null, cancellationToken);
                AnsiConsole.MarkupLine($"Saved the column mapping for {Markup.Escape(verb)} files of {Markup.Escape(slug)}: {mapping!.Count} header(s).");
            }

            options = options with { ColumnMapping = mapping };
            try
            {
                var outcome = await ImportWithProgressAsync(service, tenant.Id, kind, path, options, cancellationToken);
                return Report(outcome);
            }
            catch (FileChangedDuringImportException exception)
            {
                // Nothing was stored: the same promise, and exit code, as a rejected file.
                await Console.Error.WriteLineAsync(exception.Message);
                return Rejected;
            }
        });
        return command;
    }

    /// <summary>
    /// The product's import service on a local data directory (blobs such as error files, and the import's temporary copy
    /// of its file, go where `up` keeps them). Temporary copies left there by an import that was killed are removed first.
    /// </summary>
    public static ImportService CreateImportService(LocalProduct product, string dataDirectory)
    {
        var runtime = Microsoft.Extensions.Options.Options.Create(new RuntimeOptions { DataDirectory = dataDirectory });
        var spools = new ImportSpools(runtime);
        spools.SweepStale();
        return ActivatorUtilities.CreateInstance<ImportService>(product.Services, new FileSystemBlobStore(runtime), spools, TimeProvider.System);
    }

    private static async Task<ImportOutcome> ImportWithProgressAsync(
        ImportService service, Guid tenantId, DocumentKind kind, FileInfo file, ImportOptions options, CancellationToken cancellationToken)
    {
        await using var content = file.OpenRead();
        var request = new ImportRequest(kind, file.Name, ImportSource.Cli, TenantOnboarding.OperatorActor, RequestId: null);
        return await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progressContext =>
            {
                var task = progressContext.AddTask($"{Markup.Escape(file.Name)}", maxValue: Math.Max(1, file.Length));
                var progress = new SynchronousProgress<ImportProgress>(report =>
                {
                    task.Description = $"{Markup.Escape(file.Name)} ({report.Phase.ToString().ToLowerInvariant()}, {report.RowsProcessed:N0} rows)";
                    task.Value = report.BytesProcessed;
                });
                var outcome = await service.ImportAsync(tenantId, request, content, options, progress, cancellationToken);
                task.Value = task.MaxValue;
                return outcome;
            });
    }

    private static int Report(ImportOutcome outcome)
    {
        var record = outcome.Record;
        switch (outcome.Kind)
        {
            case ImportOutcomeKind.Stored:
                AnsiConsole.MarkupLine(
                    $"Stored [bold]{Markup.Escape(record.FileName)}[/]: {outcome.Parse.RowCount:N0} rows read, {outcome.Merge.Stored:N0} stored " +
                    $"({outcome.Merge.Inserted:N0} new, {outcome.Merge.Updated:N0} changed, {outcome.Merge.Unchanged:N0} unchanged" +
                    (outcome.Merge.ReplacedPurchaseOrders > 0 ? $", {outcome.Merge.ReplacedPurchaseOrders:N0} purchase orders replaced by a new version" : "") +
                    $"); import #{record.ImportNo}.");
                PrintWarnings(outcome.Parse);
                return 0;
            case ImportOutcomeKind.Duplicate:
                AnsiConsole.MarkupLine(
                    $"Duplicate file: [bold]{Markup.Escape(outcome.Parse.FileName)}[/] has the same content as import #{record.ImportNo} " +
                    $"({Markup.Escape(record.FileName)}, {record.ReceivedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC); nothing changed.");
                return 0;
            default:
                AnsiConsole.MarkupLine(
                    $"[red]Rejected[/] [bold]{Markup.Escape(record.FileName)}[/]: {outcome.Parse.TotalErrorCount:N0} errors; nothing was stored (import #{record.ImportNo}).");
                var table = new Table().AddColumns("line", "column", "value", "reason");
                foreach (var error in outcome.Parse.Errors.Take(ListedErrors))
                {
                    table.AddRow(
                        error.Line.ToString(CultureInfo.InvariantCulture),
                        Markup.Escape(error.Column ?? ""),
                        Markup.Escape(error.Value ?? ""),
                        Markup.Escape(error.Reason));
                }

                AnsiConsole.Write(table);
                var unlisted = outcome.Parse.TotalErrorCount - Math.Min(ListedErrors, outcome.Parse.Errors.Count);
                if (unlisted > 0)
                {
                    AnsiConsole.MarkupLine($"... and {unlisted:N0} more errors (the web app's import history offers all of them as a CSV).");
                }

                return Rejected;
        }
    }

    private static void PrintWarnings(ImportParseResult parse)
    {
        foreach (var warning in parse.Warnings)
        {
            AnsiConsole.MarkupLine($"[yellow]warning[/] {Markup.Escape(warning.ToString())}");
        }
    }

    /// <summary>The --map entries, checked; null when there are none.</summary>
    /// <exception cref="ArgumentException">An entry is not HEADER=COLUMN or names no column of this kind of file.</exception>
    private static IReadOnlyDictionary<string, string>? Mapping(DocumentKind kind, string[] entries)
    {
        if (entries.Length == 0)
        {
            return null;
        }

        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var entry in entries)
        {
            var separator = entry.LastIndexOf('=');
            if (separator <= 0 || separator == entry.Length - 1)
            {
                throw new ArgumentException($"--map '{entry}' is not HEADER=COLUMN, e.g. --map \"Beleg-Nr=invoice_number\".");
            }

            pairs.Add(KeyValuePair.Create(entry[..separator].Trim(), entry[(separator + 1)..].Trim()));
        }

        var (mapping, problems) = ColumnMapping.Validate(kind, pairs);
        return mapping ?? throw new ArgumentException("--map: " + string.Join("; ", problems));
    }

    /// <exception cref="ArgumentException">An option has a value that is not understood; the message names each such option.</exception>
    private static ImportOptions Options(string? culture, string? delimiter, string? dateFormat, string? encoding)
    {
        var parsed = ImportOptions.Parse(culture, delimiter, dateFormat, encoding);
        return parsed.Options ?? throw new ArgumentException(string.Join(
            Environment.NewLine, parsed.Errors.Select(error => $"{OptionName(error.Option)} '{error.Value}' {error.Problem}.")));
    }

    private static string OptionName(ImportOption option) => option switch
    {
        ImportOption.Culture => "--culture",
        ImportOption.Delimiter => "--delimiter",
        ImportOption.Encoding => "--encoding",
        _ => "an option",
    };
}
