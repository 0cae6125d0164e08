using System.Runtime.CompilerServices;
using System.Text;
using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Tests;

/// <summary>
/// Finds ../shared (test material kept outside the repository): INVISIBLE_SHARED_DIR, else a "shared" folder next to
/// the repository root, found by walking up from the test assembly.
/// </summary>
public static class SharedData
{
    public static string? Root { get; } = Locate();

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Root ?? throw new InvalidOperationException("shared/ is absent"), .. parts]);

    public static string Samples(string file) => Path("spec", "samples", file);

    private static string? Locate()
    {
        if (Environment.GetEnvironmentVariable("INVISIBLE_SHARED_DIR") is { Length: > 0 } configured && Directory.Exists(configured))
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(System.IO.Path.Combine(candidate, "spec")))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A fact that is skipped, saying why, when the shared test material is not there.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (SharedData.Root is null)
        {
            Skip = "../shared (or INVISIBLE_SHARED_DIR) is absent: no shared test material to read";
        }
    }
}

public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute()
    {
        if (SharedData.Root is null)
        {
            Skip = "../shared (or INVISIBLE_SHARED_DIR) is absent: no shared test material to read";
        }
    }
}

public static class Import
{
    public static Task<ImportParseResult<TRow>> TextAsync<TRow>(string csv, ImportOptions? options = null, IReferenceData? references = null)
        where TRow : class, ICanonicalRow<TRow> =>
        BytesAsync<TRow>(Encoding.UTF8.GetBytes(csv), options, references);

    public static Task<ImportParseResult<TRow>> BytesAsync<TRow>(byte[] content, ImportOptions? options = null, IReferenceData? references = null, string fileName = "test.csv")
        where TRow : class, ICanonicalRow<TRow> =>
        ImportReader.ReadAllAsync<TRow>(new MemoryStream(content), fileName, options ?? ImportOptions.Default, references ?? InMemoryReferenceData.Empty, CancellationToken.None);

    public static async Task<ImportParseResult<TRow>> SampleAsync<TRow>(string file, IReferenceData? references = null)
        where TRow : class, ICanonicalRow<TRow>
    {
        await using var stream = File.OpenRead(SharedData.Samples(file));
        return await ImportReader.ReadAllAsync<TRow>(stream, file, ImportOptions.Default, references ?? InMemoryReferenceData.Empty, CancellationToken.None);
    }

    /// <summary>The tenant's master data as the sample vendor and PO files define it (real data, held in memory).</summary>
    public static async Task<InMemoryReferenceData> SampleReferencesAsync()
    {
        var vendors = await SampleAsync<VendorRow>("vendors.csv");
        var purchaseOrders = await SampleAsync<PurchaseOrderLineRow>("purchase_orders.csv", new InMemoryReferenceData(vendors.Rows, []));
        return new InMemoryReferenceData(vendors.Rows, purchaseOrders.Rows);
    }

    public static string Describe(ImportParseResult result) =>
        string.Join(Environment.NewLine, result.Errors.Select(e => e.ToString()));
}
