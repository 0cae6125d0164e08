using System.Diagnostics;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.SampleData;
using Invisible.Server.Hosting;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Invisible.Cli.Tests;

/// <summary>
/// Chaos runs: real <c>invisible import</c>, <c>invisible reconcile</c> and <c>invisible serve --role worker</c> (outbox
/// dispatch and the re-matching it triggers) processes SIGKILLed at random points, each followed by a real
/// <c>invisible verify</c>, a run of the same operation to completion, and <c>verify</c> again. One data directory and one
/// cluster (held by the test, as <c>up</c> would) for every trial; the seed is printed, so a failing trial can be replayed.
/// </summary>
public sealed class ChaosTests(ITestOutputHelper output) : IDisposable
{
    private const int Seed = 20260;
    private const int Trials = 20;
    private const string Tenant = "chaos";
    // About 2.5 minutes alone; the whole suite runs beside it on two cores, so the bound leaves room for that.
    private static readonly TimeSpan TimeLimit = TimeSpan.FromMinutes(10);

    private readonly TemporaryDirectory _directory = new("invisible-chaos-");

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    private enum Operation
    {
        ImportInvoices,
        ImportReceipts,
        Reconcile,
        Dispatch,
    }

    [Fact]
    public async Task Processes_killed_at_random_points_of_imports_reconciles_and_dispatch_leave_every_invariant_holding()
    {
        var elapsed = Stopwatch.StartNew();
        using var timeLimit = new CancellationTokenSource(TimeLimit);
        var random = new Random(Seed);
        output.WriteLine($"chaos seed {Seed}, {Trials} trials, time limit {TimeLimit}");

        // A small tenant whose receipts and invoices arrive in several files, so that later trials have new work to do:
        // receipts that re-match awaiting invoices through the worker, invoices that the next reconcile decides.
        var files = Path.Combine(_directory.Path, "generated");
        await CanonicalCsvWriter.WriteAsync(new TenantDataGenerator(Seed).Generate(new GeneratorOptions { Invoices = 1_200 }), files, timeLimit.Token);
        var invoiceFiles = SplitCsv(Path.Combine(files, "invoices.csv"), 8, KeyOfInvoiceRow);
        var receiptFiles = SplitCsv(Path.Combine(files, "receipts.csv"), 5, row => row);

        await RunToCompletionAsync(["tenant", "create", Tenant]);
        await using var product = await LocalProduct.OpenAsync(DataDirectory, timeLimit.Token); // holds the cluster for every process
        var tenantId = (await product.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(Tenant, timeLimit.Token))!.Id;
        var tenants = product.Services.GetRequiredService<TenantDatabase>();

        await RunToCompletionAsync(["import", "vendors", Path.Combine(files, "vendors.csv")]);
        await RunToCompletionAsync(["import", "purchase-orders", Path.Combine(files, "purchase_orders.csv")]);
        await RunToCompletionAsync(["import", "receipts", receiptFiles[0]]);

        // How long each operation takes when left alone bounds the random moment it is killed at.
        var durations = new Dictionary<Operation, TimeSpan>
        {
            [Operation.ImportInvoices] = await RunToCompletionAsync(["import", "invoices", invoiceFiles[0]]),
            [Operation.Reconcile] = await RunToCompletionAsync(["reconcile"]),
            [Operation.ImportReceipts] = await RunToCompletionAsync(["import", "receipts", receiptFiles[1]]),
            [Operation.Dispatch] = await DispatchUntilDrainedAsync(tenants, tenantId, timeLimit.Token),
        };
        output.WriteLine($"set-up {elapsed.Elapsed.TotalSeconds:0.0} s; undisturbed: {string.Join(", ", durations.Select(d => $"{d.Key} {d.Value.TotalSeconds:0.0} s"))}");
        await AssertVerifiedAsync("after set-up");

        var (nextInvoices, nextReceipts) = (1, 2);
        var killedMidway = 0;
        for (var trial = 1; trial <= Trials; trial++)
        {
            Assert.False(timeLimit.IsCancellationRequested, $"chaos seed {Seed}: the time limit of {TimeLimit} ran out after {trial - 1} of {Trials} trials");
            var operation = (Operation)random.Next(4);
            // Within the first half of the undisturbed run: a loaded machine makes runs vary, and a repeated receipts file
            // stores nothing and ends sooner, so later delays would mostly kill processes that had already finished.
            var delay = TimeSpan.FromMilliseconds(random.Next(50, (int)Math.Max(100, durations[operation].TotalMilliseconds / 2)));
            string[] arguments = operation switch
            {
                Operation.ImportInvoices => ["import", "invoices", invoiceFiles[Math.Min(nextInvoices++, invoiceFiles.Count - 1)]],
                Operation.ImportReceipts => ["import", "receipts", receiptFiles[Math.Min(nextReceipts++, receiptFiles.Count - 1)]],
                Operation.Reconcile => ["reconcile"],
                _ => WorkerArguments,
            };
            var what = $"chaos seed {Seed}, trial {trial}: {operation} ({string.Join(' ', arguments.Take(2))}) killed after {delay.TotalMilliseconds:0} ms";

            var killed = await KillAfterAsync(arguments, delay, timeLimit.Token);
            killedMidway += killed ? 1 : 0;
            output.WriteLine($"{what}: {(killed ? "killed" : "had finished")} at {elapsed.Elapsed.TotalSeconds:0.0} s");
            await AssertVerifiedAsync($"{what}, after the kill");

            if (operation == Operation.Dispatch)
            {
                await DispatchUntilDrainedAsync(tenants, tenantId, timeLimit.Token);
            }
            else
            {
                await RunToCompletionAsync(arguments);
            }

            await AssertVerifiedAsync($"{what}, after running it again to completion");
        }

        output.WriteLine($"chaos seed {Seed}: {Trials} trials ({killedMidway} killed mid-way) in {elapsed.Elapsed.TotalSeconds:0.0} s");
        Assert.True(killedMidway >= Trials / 2, $"chaos seed {Seed}: only {killedMidway} of {Trials} processes were still running when killed; the delays miss the work");
        Assert.True(elapsed.Elapsed < TimeLimit, $"chaos seed {Seed}: {Trials} trials took {elapsed.Elapsed}, more than {TimeLimit}");
    }

    private string[] WorkerArguments => ["serve", "--role", "worker", "--port", "0", "--grpc-port", "0"];

    /// <summary>The verb's arguments on the test's data directory and tenant (the server and <c>tenant create</c> take no <c>--tenant</c>).</summary>
    private string[] OnTheDataDirectory(string[] arguments) =>
        arguments[0] is "serve" or "tenant" ? [.. arguments, "--data-dir", DataDirectory] : [.. arguments, "--tenant", Tenant, "--data-dir", DataDirectory];

    /// <summary>Starts the verb and SIGKILLs it after <paramref name="delay"/>; false when it had finished by then.</summary>
    private async Task<bool> KillAfterAsync(string[] arguments, TimeSpan delay, CancellationToken cancellationToken)
    {
        using var process = CliProcess.Start(OnTheDataDirectory(arguments));
        var drained = DrainAsync(process);
        var exited = process.WaitForExitAsync(cancellationToken);
        var killed = await Task.WhenAny(exited, Task.Delay(delay, cancellationToken)) != exited;
        if (killed)
        {
            process.Kill(); // SIGKILL: no finally blocks, no rollback sent
        }

        await process.WaitForExitAsync(cancellationToken);
        await drained;
        return killed;
    }

    /// <summary>Runs the verb to its end, asserting it succeeded; returns how long it took.</summary>
    private async Task<TimeSpan> RunToCompletionAsync(string[] arguments)
    {
        var stopwatch = Stopwatch.StartNew();
        var result = await CliProcess.RunAsync(OnTheDataDirectory(arguments));
        Assert.True(result.ExitCode == 0, $"chaos seed {Seed}: `invisible {string.Join(' ', arguments)}` exited {result.ExitCode}:\n{result.Output}\n{result.Error}");
        return stopwatch.Elapsed;
    }

    /// <summary>A worker process dispatches until the tenant's outbox has nothing due, then is killed (its work is committed by then).</summary>
    private async Task<TimeSpan> DispatchUntilDrainedAsync(TenantDatabase tenants, Guid tenantId, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        using var worker = CliProcess.Start(OnTheDataDirectory(WorkerArguments));
        var drained = DrainAsync(worker);
        try
        {
            while (await PendingEventsAsync(tenants, tenantId, cancellationToken) > 0)
            {
                if (worker.HasExited)
                {
                    var (standardOutput, standardError) = (await drained) switch { var texts => (texts[0], texts[1]) };
                    Assert.Fail($"chaos seed {Seed}: the worker exited ({worker.ExitCode}) before the outbox drained:\n{standardOutput}\n{standardError}");
                }

                Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(1), $"chaos seed {Seed}: the worker did not drain the outbox within a minute");
                await Task.Delay(100, cancellationToken);
            }

            return stopwatch.Elapsed;
        }
        finally
        {
            if (!worker.HasExited)
            {
                worker.Kill();
            }

            await worker.WaitForExitAsync(CancellationToken.None);
            await drained;
        }
    }

    private static async Task<long> PendingEventsAsync(TenantDatabase tenants, Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await unitOfWork.Db.ExecuteAsync<long>(
            "select count(*) from outbox where published_at is null", cancellationToken);
    }

    private async Task AssertVerifiedAsync(string when)
    {
        var verified = await CliProcess.RunAsync("verify", "--data-dir", DataDirectory);
        Assert.True(verified.ExitCode == 0, $"{when}: `invisible verify` exited {verified.ExitCode}:\n{verified.Output}\n{verified.Error}");
    }

    /// <summary>Reads what the process writes, so that a full pipe never blocks it.</summary>
    private static Task<string[]> DrainAsync(Process process) =>
        Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());

    /// <summary>The rows of a CSV file in <paramref name="parts"/> files with its header, never separating consecutive rows of one key.</summary>
    private List<string> SplitCsv(string path, int parts, Func<string, string> keyOf)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0];
        var rows = lines.Skip(1).Where(line => line.Length > 0).ToList();
        var perPart = (rows.Count + parts - 1) / parts;
        var files = new List<string>();
        var start = 0;
        while (start < rows.Count)
        {
            var end = Math.Min(rows.Count, start + perPart);
            while (end < rows.Count && keyOf(rows[end]) == keyOf(rows[end - 1]))
            {
                end++;
            }

            var file = Path.Combine(_directory.Path, $"{Path.GetFileNameWithoutExtension(path)}-{files.Count + 1}.csv");
            File.WriteAllLines(file, rows.GetRange(start, end - start).Prepend(header));
            files.Add(file);
            start = end;
        }

        return files;
    }

    /// <summary>Invoice number and vendor name, the first two columns (quoted when they hold a comma).</summary>
    private static string KeyOfInvoiceRow(string row)
    {
        var position = 0;
        for (var field = 0; field < 2 && position < row.Length; field++)
        {
            if (row[position] == '"')
            {
                position = row.IndexOf("\",", position + 1, StringComparison.Ordinal) + 2;
            }
            else
            {
                var comma = row.IndexOf(',', position);
                position = comma < 0 ? row.Length : comma + 1;
            }
        }

        return row[..position];
    }

    public void Dispose() => _directory.Dispose();
}
