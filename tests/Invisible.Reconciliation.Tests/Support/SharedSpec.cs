namespace Invisible.Reconciliation.Tests.Support;

/// <summary>Finds <c>shared/spec/samples</c>: env <c>INVISIBLE_SHARED_DIR</c>, else <c>../shared</c> next to the repository root.</summary>
public static class SharedSpec
{
    public static string? SamplesDirectory
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

    public static string SkipReason => "shared/spec/samples not found (set INVISIBLE_SHARED_DIR or place shared/ next to the repository)";

    private static string? Samples(string sharedDirectory)
    {
        var samples = Path.Combine(sharedDirectory, "spec", "samples");
        return File.Exists(Path.Combine(samples, "expected_results.csv")) ? samples : null;
    }
}

/// <summary>A fact that is skipped, with the reason, when the shared spec samples are not on this machine.</summary>
public sealed class SpecSamplesFactAttribute : FactAttribute
{
    public SpecSamplesFactAttribute()
    {
        if (SharedSpec.SamplesDirectory is null)
        {
            Skip = SharedSpec.SkipReason;
        }
    }
}
