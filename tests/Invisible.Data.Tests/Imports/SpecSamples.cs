namespace Invisible.Data.Tests.Imports;

/// <summary>Finds <c>shared/spec/samples</c>: env <c>INVISIBLE_SHARED_DIR</c>, else <c>../shared</c> next to the repository root.</summary>
internal static class SpecSamples
{
    public const string SkipReason = "shared/spec/samples not found (set INVISIBLE_SHARED_DIR or place shared/ next to the repository)";

    public static string? Directory
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("INVISIBLE_SHARED_DIR");
            if (!string.IsNullOrEmpty(configured))
            {
                return Samples(configured);
            }

            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Invisible.Dapr.sln")))
                {
                    return directory.Parent is null ? null : Samples(Path.Combine(directory.Parent.FullName, "shared"));
                }
            }

            return null;
        }
    }

    public static byte[] Read(string fileName) => File.ReadAllBytes(Path.Combine(Directory!, fileName));

    private static string? Samples(string sharedDirectory)
    {
        var samples = Path.Combine(sharedDirectory, "spec", "samples");
        return File.Exists(Path.Combine(samples, "vendors.csv")) ? samples : null;
    }
}

/// <summary>A fact skipped, with the reason, when the shared spec samples are not on this machine.</summary>
internal sealed class SpecSamplesFactAttribute : FactAttribute
{
    public SpecSamplesFactAttribute()
    {
        if (SpecSamples.Directory is null)
        {
            Skip = SpecSamples.SkipReason;
        }
    }
}
