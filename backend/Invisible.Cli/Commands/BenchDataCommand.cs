using System.CommandLine;
using System.Diagnostics;
using Invisible.SampleData;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible bench-data --invoices N --out DIR</c>: a seeded, realistic tenant as the four canonical CSV files.</summary>
internal static class BenchDataCommand
{
    public static Command Create()
    {
        var invoices = new Option<int>("--invoices") { Description = "How many invoices to generate (about 3 lines each).", DefaultValueFactory = _ => 10_000, HelpName = "N" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where to write vendors.csv, purchase_orders.csv, receipts.csv, invoices.csv and truth.csv.", Required = true, HelpName = "DIR" };
        var seed = new Option<int>("--seed") { Description = "Seed of the generator: the same seed gives the same files.", DefaultValueFactory = _ => 42, HelpName = "SEED" };
        var command = new Command("bench-data", "Generate a tenant's canonical CSV files (vendors, purchase orders, receipts, invoices) for trying and benchmarking imports.")
        {
            invoices, output, seed,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var count = parse.GetValue(invoices);
            if (count < 1)
            {
                await Console.Error.WriteLineAsync("--invoices must be at least 1.");
                return 2;
            }

            var directory = parse.GetValue(output)!.FullName;
            var stopwatch = Stopwatch.StartNew();
            await WriteAsync(new GeneratorOptions { Invoices = count }, parse.GetValue(seed), directory, cancellationToken);
            AnsiConsole.MarkupLine($"Wrote {count:N0} invoices with their vendors, purchase orders and receipts to [bold]{Markup.Escape(directory)}[/] in {stopwatch.Elapsed.TotalSeconds:0.0} s.");
            AnsiConsole.MarkupLine("Import them in this order: vendors, purchase-orders, receipts, invoices.");
            return 0;
        });
        return command;
    }

    /// <summary>Generates and writes the files; shared with the ingest benchmark.</summary>
    public static Task WriteAsync(GeneratorOptions options, int seed, string directory, CancellationToken cancellationToken) =>
        CanonicalCsvWriter.WriteAsync(new TenantDataGenerator(seed).Generate(options), directory, cancellationToken);
}
