using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Invisible.Contracts.Imports.V1;
using Invisible.Contracts.Matching.V1;
using Spectre.Console;

namespace Invisible.Cli.Remote;

/// <summary>
/// <c>import</c>, <c>reconcile</c> and <c>export results</c> over the server's RPCs (ImportService, MatchingService), printing
/// what the local verbs print and exiting with the same codes.
/// </summary>
internal static class RemoteCommands
{
    private const int Rejected = 1;
    private const int ListedErrors = 50;

    /// <summary>Per call: a call that hangs (a proxy that never answers) ends rather than holding the terminal forever.</summary>
    private static readonly TimeSpan CallDeadline = TimeSpan.FromMinutes(5);

    /// <summary>Uploads in chunks (unary calls, resumable by offset), then streams the server's progress and result.</summary>
    public static async Task<int> ImportAsync(
        RemoteClients server, Ingestion.DocumentKind documentKind, FileInfo file, Ingestion.ImportOptions importOptions, CancellationToken cancellationToken)
    {
        var kind = Enum.Parse<DocumentKind>(documentKind.ToString());
        var options = new ImportOptions
        {
            Culture = importOptions.Culture?.Name ?? string.Empty,
            Delimiter = importOptions.Delimiter?.ToString() ?? string.Empty,
            DateFormat = importOptions.DateFormat ?? string.Empty,
            Encoding = importOptions.Encoding?.WebName ?? string.Empty,
        };
        await using var content = file.OpenRead();
        var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken));
        content.Position = 0;

        // Progress of both halves on one bar: the upload, then the server reading the file (it reports bytes read).
        var result = await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progressContext =>
            {
                var name = Markup.Escape(file.Name);
                var bar = progressContext.AddTask($"{name} (uploading)", maxValue: Math.Max(1, 2 * file.Length));
                var started = await server.Imports.StartUploadAsync(
                    new StartUploadRequest { Kind = kind, FileName = file.Name, Size = file.Length, Options = options }, Call(cancellationToken));
                var buffer = new byte[Math.Max(1, started.MaxChunkBytes)];
                long offset = 0;
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    var chunk = await server.Imports.UploadChunkAsync(
                        new UploadChunkRequest { UploadId = started.UploadId, Offset = offset, Data = ByteString.CopyFrom(buffer, 0, read) },
                        Call(cancellationToken));
                    offset = chunk.ReceivedBytes;
                    bar.Value = offset;
                }

                ImportResult? outcome = null;
                try
                {
                    using var completion = server.Imports.CompleteUpload(
                        new CompleteUploadRequest { UploadId = started.UploadId, Sha256 = sha256 }, Call(cancellationToken));
                    await foreach (var importEvent in completion.ResponseStream.ReadAllAsync(cancellationToken))
                    {
                        if (importEvent.EventCase == ImportEvent.EventOneofCase.Progress)
                        {
                            var report = importEvent.Progress;
                            bar.Description = $"{name} ({report.Phase.ToString().ToLowerInvariant()}, {report.RowsRead:N0} rows)";
                            bar.Value = file.Length + report.BytesRead;
                        }
                        else if (importEvent.EventCase == ImportEvent.EventOneofCase.Result)
                        {
                            outcome = importEvent.Result;
                        }
                    }
                }
                catch (RpcException exception) when (exception.StatusCode == StatusCode.InvalidArgument && outcome is { Outcome: ImportOutcome.Rejected })
                {
                    // A rejected file ends the stream with INVALID_ARGUMENT after its result: the result says it all.
                }

                bar.Value = bar.MaxValue;
                return outcome;
            });

        return result is null
            ? throw new RpcException(new Grpc.Core.Status(StatusCode.Internal, "The import ended without a result."))
            : Report(result, file.Name);
    }

    public static async Task<int> ReconcileAsync(RemoteClients server, CancellationToken cancellationToken)
    {
        var summary = await server.Matching.ReconcileAsync(new ReconcileRequest(), Call(cancellationToken));
        AnsiConsole.MarkupLine(
            $"Reconciled [bold]{summary.InvoiceCount:N0}[/] invoices on {Markup.Escape(server.Address.ToString())} with tolerances v{summary.ToleranceVersion} (run {summary.RunId}).");
        var table = new Table().AddColumns("status", "invoices");
        foreach (var count in summary.InvoicesByStatus)
        {
            table.AddRow(SnakeCase(count.Status.ToString()), count.Invoices.ToString("N0", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        return 0;
    }

    public static async Task<int> ExportResultsAsync(RemoteClients server, FileInfo file, CancellationToken cancellationToken)
    {
        var export = await server.Matching.ExportResultsAsync(new ExportResultsRequest(), Call(cancellationToken));

        // Written beside the target and moved into place, so a failed export never leaves half a file under the name.
        var partial = file.FullName + ".partial";
        await File.WriteAllBytesAsync(partial, export.Csv.ToByteArray(), cancellationToken);
        File.Move(partial, file.FullName, overwrite: true);
        AnsiConsole.MarkupLine($"Wrote [bold]{export.RowCount:N0}[/] result rows from {Markup.Escape(server.Address.ToString())} to {Markup.Escape(file.FullName)}.");
        if (export.RowCount == 0)
        {
            AnsiConsole.MarkupLine("No decisions yet: run `invisible reconcile` first.");
        }

        return 0;
    }

    private static CallOptions Call(CancellationToken cancellationToken) => new(deadline: DateTime.UtcNow.Add(CallDeadline), cancellationToken: cancellationToken);

    private static int Report(ImportResult result, string fileName)
    {
        var record = result.Import;
        switch (result.Outcome)
        {
            case ImportOutcome.Stored:
                AnsiConsole.MarkupLine(
                    $"Stored [bold]{Markup.Escape(record.FileName)}[/]: {record.RowCount:N0} rows read, {record.StoredCount:N0} stored " +
                    $"({result.Inserted:N0} new, {result.Updated:N0} changed, {result.Unchanged:N0} unchanged" +
                    (result.ReplacedPurchaseOrders > 0 ? $", {result.ReplacedPurchaseOrders:N0} purchase orders replaced by a new version" : "") +
                    $"); import #{record.ImportNo}.");
                foreach (var warning in result.Warnings)
                {
                    AnsiConsole.MarkupLine($"[yellow]warning[/] line {warning.Line} {Markup.Escape(warning.Column)}: {Markup.Escape(warning.Reason)}");
                }

                return 0;
            case ImportOutcome.Duplicate:
                AnsiConsole.MarkupLine(
                    $"Duplicate file: [bold]{Markup.Escape(fileName)}[/] has the same content as import #{record.ImportNo} " +
                    $"({Markup.Escape(record.FileName)}, {record.ReceivedAt?.ToDateTime():yyyy-MM-dd HH:mm} UTC); nothing changed.");
                return 0;
            default:
                var total = result.Errors.Count + result.UnlistedErrorCount;
                AnsiConsole.MarkupLine(
                    $"[red]Rejected[/] [bold]{Markup.Escape(record.FileName)}[/]: {total:N0} errors; nothing was stored (import #{record.ImportNo}).");
                var table = new Table().AddColumns("line", "column", "value", "reason");
                foreach (var error in result.Errors.Take(ListedErrors))
                {
                    table.AddRow(error.Line.ToString(CultureInfo.InvariantCulture), Markup.Escape(error.Column), Markup.Escape(error.Value), Markup.Escape(error.Reason));
                }

                AnsiConsole.Write(table);
                var unlisted = total - Math.Min(ListedErrors, result.Errors.Count);
                if (unlisted > 0)
                {
                    AnsiConsole.MarkupLine($"... and {unlisted:N0} more errors (the web app's import history offers all of them as a CSV).");
                }

                return Rejected;
        }
    }

    private static string SnakeCase(string pascal)
    {
        var builder = new StringBuilder(pascal.Length + 4);
        foreach (var character in pascal)
        {
            if (char.IsUpper(character) && builder.Length > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(character));
        }

        return builder.ToString();
    }
}
