using Xunit;

namespace Invisible.Testing;

/// <summary>
/// Finds <c>shared/spec/samples</c>: env <c>INVISIBLE_SHARED_DIR</c>, else <c>../shared</c> next to the repository root.
/// shared/ is there for developers and CI only, so tests that need it skip with <see cref="SkipReason"/> when it is absent.
/// </summary>
public static class SpecSamples
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
        return File.Exists(Path.Combine(samples, "expected_results.csv")) ? samples : null;
    }
}

/// <summary>A fact that is skipped, with the reason, when the shared spec samples are not on this machine.</summary>
public sealed class SpecSamplesFactAttribute : FactAttribute
{
    public SpecSamplesFactAttribute()
    {
        if (SpecSamples.Directory is null)
        {
            Skip = SpecSamples.SkipReason;
        }
    }
}
