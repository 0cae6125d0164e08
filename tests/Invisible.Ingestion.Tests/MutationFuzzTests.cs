using System.Text;
using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Tests;

/// <summary>
/// Seeded mutations of the sample files: whatever the bytes, the reader either accepts the whole file with no errors
/// or rejects it with errors and no rows; it never throws and never hangs.
/// </summary>
public sealed class MutationFuzzTests
{
    private const int Cases = 2_000;
    private static readonly TimeSpan PerCaseTimeout = TimeSpan.FromSeconds(10);

    [SharedDataFact]
    public async Task Mutated_samples_are_either_accepted_whole_or_rejected_with_errors()
    {
        var references = await Import.SampleReferencesAsync();
        string[] files = ["vendors.csv", "purchase_orders.csv", "receipts.csv", "invoices.csv"];
        var originals = files.Select(f => File.ReadAllBytes(SharedData.Samples(f))).ToArray();
        var random = new Random(20260222);
        var outcomes = new int[2];

        for (var i = 0; i < Cases; i++)
        {
            var which = i % files.Length;
            var (mutation, bytes) = Mutate(originals[which], random);
            var (accepted, problem) = await ReadWithTimeoutAsync(files[which], bytes, references);
            Assert.True(problem is null, $"case {i} ({mutation} of {files[which]}): {problem}");
            outcomes[accepted ? 1 : 0]++;
        }

        Assert.True(outcomes[0] > Cases / 4, $"only {outcomes[0]} of {Cases} mutations were rejected: the mutations are too weak");
    }

    private static async Task<(bool Accepted, string? Problem)> ReadWithTimeoutAsync(string file, byte[] bytes, IReferenceData references)
    {
        using var timeout = new CancellationTokenSource(PerCaseTimeout);
        try
        {
            return file switch
            {
                "vendors.csv" => Check(await Read<VendorRow>()),
                "purchase_orders.csv" => Check(await Read<PurchaseOrderLineRow>()),
                "receipts.csv" => Check(await Read<ReceiptRow>()),
                _ => Check(await Read<InvoiceLineRow>()),
            };
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return (false, $"did not finish within {PerCaseTimeout}");
        }
        catch (Exception e)
        {
            return (false, $"threw {e}");
        }

        Task<ImportParseResult<TRow>> Read<TRow>() where TRow : class, ICanonicalRow<TRow> =>
            ImportReader.ReadAllAsync<TRow>(new MemoryStream(bytes), file, ImportOptions.Default, references, timeout.Token)
                .WaitAsync(timeout.Token);
    }

    private static (bool, string?) Check<TRow>(ImportParseResult<TRow> result)
    {
        if (result.Result.Accepted)
        {
            return result.Result.Errors.Count == 0 && result.Rows.Count == result.Result.RowCount
                ? (true, null)
                : (true, "accepted with errors or with a row count that differs from the rows delivered");
        }

        return result.Rows.Count == 0 && result.Result.Errors.Count > 0 && result.Result.Errors.All(e => e.Reason.Length > 0)
            ? (false, null)
            : (false, "rejected without errors, or with rows");
    }

    private static (string Mutation, byte[] Bytes) Mutate(byte[] original, Random random)
    {
        var bytes = original.ToList();
        int At() => random.Next(bytes.Count);
        switch (random.Next(8))
        {
            case 0:
                return ("truncation", original[..random.Next(original.Length)]);
            case 1:
                for (var n = random.Next(1, 8); n > 0; n--)
                {
                    bytes[At()] = (byte)random.Next(256);
                }

                return ("random bytes", [.. bytes]);
            case 2:
                bytes.Insert(At(), (byte)'"');
                return ("stray quote", [.. bytes]);
            case 3:
                bytes.InsertRange(At(), Enumerable.Repeat((byte)'x', random.Next(10_000, 2_000_000)));
                return ("huge field", [.. bytes]);
            case 4:
                var comma = bytes.IndexOf((byte)',', At());
                bytes.InsertRange(comma < 0 ? 0 : comma + 1, Encoding.ASCII.GetBytes(random.Next(4) switch { 0 => "=", 1 => "+", 2 => "-", _ => "@" } + "SUM(A1)"));
                return ("formula prefix", [.. bytes]);
            case 5:
                return ("utf-16 without bom", Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(original)));
            case 6:
                return ("windows-1252 re-encoding", Encoding.Latin1.GetBytes(Encoding.UTF8.GetString(original).Replace("e", "é", StringComparison.Ordinal)));
            default:
                var line = bytes.IndexOf((byte)'\n', At());
                bytes.InsertRange(line < 0 ? bytes.Count : line + 1, Encoding.ASCII.GetBytes("\"unterminated,1,2\n"));
                return ("unterminated quote", [.. bytes]);
        }
    }
}
