using System.CommandLine;
using System.Globalization;
using Invisible.Cli.Benchmarks;
using Spectre.Console;

namespace Invisible.Cli.Commands;

internal static class BenchCommand
{
    private static IReadOnlyList<IBenchmark> All() => [new StartupBenchmark(), new RpcBenchmark(), new IngestBenchmark(), new EventsBenchmark(), new MatchBenchmark(), new ArrivalBenchmark(), new IntakeBenchmark(), new TenantBenchmark(), new SpaBenchmark(), new Benchmarks.Load.LoadBenchmark()];

    public static Command Create()
    {
        var name = new Argument<string?>("NAME")
        {
            Description = "The benchmark to run (all when omitted): " + string.Join(", ", All().Select(b => b.Name)),
            Arity = ArgumentArity.ZeroOrOne,
        };
        var messages = new Option<int?>("--messages")
        {
            Description = $"intake: how many e-mails to send (default {IntakeBenchmark.DefaultMessages}; e.g. 5 for a quick check)",
        };
        messages.Validators.Add(result =>
        {
            if (result.GetValue(messages) is < 1 or > 100_000)
            {
                result.AddError("--messages must be between 1 and 100000.");
            }
        });
        var replicas = new Option<int?>("--replicas")
        {
            Description = "load: also run the workload over N api and N worker processes sharing one PostgreSQL (e.g. 2), printed beside the single-process run",
        };
        replicas.Validators.Add(result =>
        {
            if (result.GetValue(replicas) is < 1 or > 8)
            {
                result.AddError("--replicas must be between 1 and 8.");
            }
        });
        var command = new Command("bench", "Run benchmarks and print each figure with the baseline measured in the same run, and their ratio.") { name, messages, replicas };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var wanted = parse.GetValue(name);
            var selected = All().Where(b => wanted is null || b.Name.Equals(wanted, StringComparison.OrdinalIgnoreCase)).ToList();
            if (selected.Count == 0)
            {
                await Console.Error.WriteLineAsync($"No benchmark named '{wanted}'. Available: {string.Join(", ", All().Select(b => b.Name))}");
                return 2;
            }

            // `./invisible bench` runs the Release build; a Debug run (straight from an IDE) is said so, since its figures mislead.
            var optimised = typeof(BenchCommand).Assembly.GetCustomAttributes(typeof(System.Diagnostics.DebuggableAttribute), false)
                .OfType<System.Diagnostics.DebuggableAttribute>().All(attribute => !attribute.IsJITOptimizerDisabled);
            AnsiConsole.MarkupLine(optimised
                ? $"[dim]build: optimised (Release), {Environment.ProcessorCount} cores, .NET {Environment.Version}[/]"
                : "[yellow]build: Debug (JIT optimisation off): figures are not the product's; run ./invisible bench for the Release build[/]");
            var allMet = true;
            foreach (var benchmark in selected)
            {
                // Not CreateTempSubdirectory (0700): a benchmark's embedded cluster runs as `postgres` when we are root.
                var work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"invisible-bench-{benchmark.Name}-{Guid.NewGuid():N}"));
                try
                {
                    AnsiConsole.MarkupLine($"[bold]{benchmark.Name}[/]: {Markup.Escape(benchmark.Description)}");
                    var context = new BenchmarkContext(work.FullName, line => AnsiConsole.MarkupLine($"[dim]  {Markup.Escape(line)}[/]"))
                    {
                        Logging = CommonOptions.Logging(parse),
                        Messages = parse.GetValue(messages),
                        Replicas = parse.GetValue(replicas),
                    };
                    var figures = await benchmark.RunAsync(context, cancellationToken);
                    AnsiConsole.Write(Table(figures));
                    allMet &= figures.All(f => f.Met is not false);
                }
                finally
                {
                    TryDelete(work);
                }
            }

            return allMet ? 0 : 1;
        });
        return command;
    }

    private static Table Table(IReadOnlyList<BenchmarkFigure> figures)
    {
        var table = new Table().AddColumns("figure", "value", "unit", "baseline", "ratio", "target", "met");
        foreach (var f in figures)
        {
            table.AddRow(
                Markup.Escape(f.Figure),
                Format(f.Value),
                Markup.Escape(f.Unit),
                f.Baseline is { } baseline ? Format(baseline) : "",
                f.Ratio is { } ratio ? ratio.ToString("0.00×", CultureInfo.InvariantCulture) : "",
                Markup.Escape(f.Target ?? ""),
                f.Met switch { true => "[green]yes[/]", false => "[red]no[/]", null => "" });
        }

        return table;
    }

    private static string Format(double value) => value.ToString(Math.Abs(value) >= 100 ? "#,0" : "0.###", CultureInfo.InvariantCulture);

    private static void TryDelete(DirectoryInfo directory)
    {
        try
        {
            directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A benchmark's server may still hold a file for a moment; the temp folder is cleaned by the OS eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
