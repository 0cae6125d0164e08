using System.CommandLine;
using System.Globalization;
using System.Text;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Vendors;
using Invisible.Server.Errors;
using Invisible.Server.Hosting;
using Invisible.Server.Matching.Models;
using Invisible.Server.Tenancy;
using Invisible.Server.Vendors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.VisualBasic.FileIO;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible vendors</c>: the vendor master's upkeep: confirmed names, duplicate clusters, and measuring the clustering.</summary>
internal static class VendorsCommand
{
    public const int UsageError = 2;

    public static Command Create()
    {
        var command = new Command("vendors", "Keep the vendor master clean: confirm printed names, find duplicates, measure the duplicate finder on your own data.");
        command.Subcommands.Add(Confirm());
        command.Subcommands.Add(Duplicates());
        command.Subcommands.Add(Evaluate());
        return command;
    }

    /// <summary>
    /// The vendor master on the local product's services, which run no hosted services: the model's retraining is built here
    /// and awaited by the verb rather than left to a background loop.
    /// </summary>
    private static VendorMaster Master(LocalProduct product) => ActivatorUtilities.CreateInstance<VendorMaster>(
        product.Services, TimeProvider.System, ActivatorUtilities.CreateInstance<SimilarityModelRetraining>(product.Services));

    private static Command Confirm()
    {
        var names = new Option<string[]>("--name") { Description = "A printed name (as on invoices) to confirm; repeat with one --vendor each.", HelpName = "PRINTED NAME" };
        var vendors = new Option<string[]>("--vendor") { Description = "The vendor code the --name at the same position is.", HelpName = "CODE" };
        var file = new Option<FileInfo?>("--file") { Description = "A CSV of name,vendor_code rows (a header row of those names is skipped).", HelpName = "FILE" };
        var command = new Command(
            "confirm",
            "Record printed names as confirmed names of vendors (decision 'operator', audited), as a reviewer's assignment would: the decided " +
            "invoices printing them are re-decided at once and the matching model is retrained on them (a new version). " +
            $"Exit codes: 0 done, {UsageError} unknown tenant or vendor, or names and vendors that do not pair up.")
        {
            CommonOptions.Tenant, names, vendors, file,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var pairs = new List<NameConfirmation>();
            var (printed, codes) = (parse.GetValue(names) ?? [], parse.GetValue(vendors) ?? []);
            if (printed.Length != codes.Length)
            {
                await Console.Error.WriteLineAsync($"Give one --vendor for each --name ({printed.Length} names, {codes.Length} vendors).");
                return UsageError;
            }

            pairs.AddRange(printed.Zip(codes, (name, code) => new NameConfirmation(name, code)));
            if (parse.GetValue(file) is { } csv)
            {
                foreach (var row in ReadCsv(csv.FullName).Where(row => row.Length >= 2))
                {
                    if (!(row[0].Equals("name", StringComparison.OrdinalIgnoreCase) && row[1].Equals("vendor_code", StringComparison.OrdinalIgnoreCase)))
                    {
                        pairs.Add(new NameConfirmation(row[0], row[1]));
                    }
                }
            }

            if (pairs.Count == 0)
            {
                await Console.Error.WriteLineAsync("Nothing to confirm: give --name and --vendor, or --file.");
                return UsageError;
            }

            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            var tenant = await ReconcileCommand.FindTenantAsync(product, parse.GetValue(CommonOptions.Tenant)!, dataDirectory, cancellationToken);
            if (tenant is null)
            {
                return UsageError;
            }

            try
            {
                var (confirmed, reevaluated, version) = await Master(product)
                    .ConfirmAsync(tenant.Id, pairs, TenantOnboarding.OperatorActor, cancellationToken);
                foreach (var alias in confirmed)
                {
                    AnsiConsole.MarkupLine($"'{Markup.Escape(alias.PrintedName)}' → {Markup.Escape(alias.VendorCode)}" +
                        (alias.Changed ? alias.PreviousVendorCode is { } before && before != alias.VendorCode ? $" (was {Markup.Escape(before)})" : "" : " (already confirmed)"));
                }

                AnsiConsole.MarkupLine($"{confirmed.Count(alias => alias.Changed)} name(s) confirmed; {reevaluated} invoice(s) re-decided; matching model version {version}.");
                return 0;
            }
            catch (DomainException error)
            {
                await Console.Error.WriteLineAsync(error.Message);
                return UsageError;
            }
        });
        return command;
    }

    private static Command Duplicates()
    {
        var output = new Option<FileInfo?>("--out") { Description = "Write the clusters to this CSV instead of the terminal.", HelpName = "FILE" };
        var command = new Command(
            "duplicates",
            "List vendors of the master that are probably one company (shared rare words, tax id, e-mail domain, phonetic key or acronym, " +
            "then scored with the tenant's matching model): one row per vendor in a cluster of two or more, as " +
            $"cluster_id,vendor_code,name,confidence. Exit codes: 0 done, {UsageError} unknown tenant.")
        {
            CommonOptions.Tenant, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            var tenant = await ReconcileCommand.FindTenantAsync(product, parse.GetValue(CommonOptions.Tenant)!, dataDirectory, cancellationToken);
            if (tenant is null)
            {
                return UsageError;
            }

            var clusters = await Master(product).DuplicateClustersAsync(tenant.Id, cancellationToken);
            var csv = ClustersCsv(clusters);
            if (parse.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, csv, new UTF8Encoding(false), cancellationToken);
                AnsiConsole.MarkupLine($"{clusters.Count} cluster(s) of {clusters.Sum(cluster => cluster.Members.Count)} vendors written to {Markup.Escape(file.FullName)}.");
            }
            else
            {
                Console.Write(csv);
            }

            return 0;
        });
        return command;
    }

    private static Command Evaluate()
    {
        var names = new Option<FileInfo>("--names") { Description = "A CSV with a header row, one name per row.", HelpName = "FILE", Required = true };
        var nameColumn = new Option<string>("--name-column") { Description = "The header of the column holding the names.", HelpName = "C", Required = true };
        var idColumn = new Option<string>("--id-column") { Description = "The header of the column saying which rows are one company (same id: same company).", HelpName = "C", Required = true };
        var command = new Command(
            "evaluate",
            "Cluster the names of any CSV as the duplicate finder clusters a vendor master (built-in model, names only) and print how well the " +
            "clusters agree with the id column: pairwise precision, recall and F1, and B-cubed precision, recall and F1. Needs no data directory. " +
            $"Exit codes: 0 done, {UsageError} unreadable file or unknown column.")
        {
            names, nameColumn, idColumn,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var rows = ReadCsv(parse.GetValue(names)!.FullName).ToList();
            var header = rows.FirstOrDefault() ?? [];
            var (nameAt, idAt) = (Array.IndexOf(header, parse.GetValue(nameColumn)), Array.IndexOf(header, parse.GetValue(idColumn)));
            if (nameAt < 0 || idAt < 0)
            {
                await Console.Error.WriteLineAsync($"The file's header has no column '{(nameAt < 0 ? parse.GetValue(nameColumn) : parse.GetValue(idColumn))}' (it has: {string.Join(", ", header)}).");
                return UsageError;
            }

            var labelled = rows.Skip(1).Where(row => row.Length > Math.Max(nameAt, idAt) && row[nameAt].Trim().Length > 0).ToList();
            var vendors = labelled.Select((row, index) => new Vendor($"R{index + 1}", row[nameAt])).ToList();
            var scores = EvaluateNames(vendors, labelled.Select(row => row[idAt]).ToList());
            Console.WriteLine(FormattableString.Invariant($"rows {scores.Items}, true pairs {scores.TruePairs}, predicted pairs {scores.PredictedPairs}, correct pairs {scores.CorrectPairs}"));
            Console.WriteLine(FormattableString.Invariant($"pairwise precision {scores.Pairwise.Precision:0.0000} recall {scores.Pairwise.Recall:0.0000} F1 {scores.Pairwise.F1:0.0000}"));
            Console.WriteLine(FormattableString.Invariant($"B-cubed precision {scores.BCubed.Precision:0.0000} recall {scores.BCubed.Recall:0.0000} F1 {scores.BCubed.F1:0.0000}"));
            return 0;
        });
        return command;
    }

    /// <summary>Clusters <paramref name="vendors"/> with the built-in model and scores the clusters against <paramref name="truth"/>.</summary>
    internal static ClusterScores EvaluateNames(IReadOnlyList<Vendor> vendors, IReadOnlyList<string> truth)
    {
        var clusters = VendorClustering.Cluster(vendors, SimilarityModel.Prior);
        var clusterOf = clusters.SelectMany(cluster => cluster.Members.Select(member => (member.Code, cluster.Id)))
            .ToDictionary(entry => entry.Code, entry => entry.Id, StringComparer.Ordinal);
        return ClusterEvaluation.Score(vendors.Select(vendor => clusterOf.GetValueOrDefault(vendor.Code, "alone " + vendor.Code)).ToList(), truth);
    }

    internal static string ClustersCsv(IReadOnlyList<VendorCluster> clusters)
    {
        var csv = new StringBuilder("cluster_id,vendor_code,name,confidence\n");
        foreach (var cluster in clusters)
        {
            foreach (var vendor in cluster.Members)
            {
                csv.Append(Field(cluster.Id)).Append(',').Append(Field(vendor.Code)).Append(',').Append(Field(vendor.Name)).Append(',')
                    .Append(cluster.Confidence.ToString("0.000", CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        return csv.ToString();
    }

    private static string Field(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;

    private static IEnumerable<string[]> ReadCsv(string path)
    {
        using var parser = new TextFieldParser(path, Encoding.UTF8) { HasFieldsEnclosedInQuotes = true, TrimWhiteSpace = false };
        parser.SetDelimiters(",");
        while (!parser.EndOfData)
        {
            yield return parser.ReadFields() ?? [];
        }
    }
}
