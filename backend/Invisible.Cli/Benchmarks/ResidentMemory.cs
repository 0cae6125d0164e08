namespace Invisible.Cli.Benchmarks;

/// <summary>
/// The process's resident set as Linux counts it (/proc/self/status), which includes what the managed heap does not: the
/// runtime, native buffers, freed but not yet returned segments.
/// </summary>
internal static class ResidentMemory
{
    /// <summary>
    /// Compacts the heap, then resets the kernel's peak (VmHWM) to the current resident set by writing 5 to
    /// /proc/self/clear_refs; returns that resident set in bytes (0 where /proc is absent).
    /// </summary>
    public static long ResetPeak()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // An older kernel or a restricted /proc: the peak is then the process's since its start, which only overstates.
        }

        return Read("VmRSS:");
    }

    /// <summary>The peak resident set since the last <see cref="ResetPeak"/>, in bytes.</summary>
    public static long PeakBytes() => Read("VmHWM:");

    private static long Read(string field)
    {
        if (!File.Exists("/proc/self/status"))
        {
            return 0;
        }

        var line = File.ReadLines("/proc/self/status").FirstOrDefault(line => line.StartsWith(field, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
