using System.Globalization;

namespace Invisible.Cli.Benchmarks.Load;

/// <summary>
/// The sizes of <c>bench load</c>. The defaults are the (200 tenants of 500 invoices, 100 users over 50 tenants,
/// 10 busy tenants); each can be lowered through an environment variable to iterate quickly or to fit a shared machine,
/// e.g. <c>INVISIBLE_BENCH_LOAD_TENANTS=20 INVISIBLE_BENCH_LOAD_SECONDS=30 ./invisible bench load</c>.
/// </summary>
internal sealed record LoadSettings
{
    public const string Prefix = "INVISIBLE_BENCH_LOAD_";

    /// <summary>Tenants provisioned in all (clerks' tenants, busy tenants and idle ones).</summary>
    public int Tenants { get; init; } = 200;

    /// <summary>Invoices imported per tenant before the load starts (with their vendors, POs and receipts).</summary>
    public int Invoices { get; init; } = 500;

    /// <summary>Simulated clerks, spread evenly over <see cref="ClerkTenants"/>.</summary>
    public int Users { get; init; } = 100;

    public int ClerkTenants { get; init; } = 50;

    /// <summary>Tenants that import files and receive e-mailed invoices while the clerks work.</summary>
    public int BusyTenants { get; init; } = 10;

    /// <summary>Measured seconds per run, after <see cref="WarmupSeconds"/> of the same load that is not counted.</summary>
    public int Seconds { get; init; } = 60;

    public int WarmupSeconds { get; init; } = 15;

    /// <summary>A clerk's pause between two calls (reading the screen); the load is people, not a closed loop.</summary>
    public int ThinkMilliseconds { get; init; } = 500;

    /// <summary>E-mails per second over all busy tenants (each a 5-line UBL invoice).</summary>
    public double EmailsPerSecond { get; init; } = 2;

    /// <summary>Seconds between two invoice files of one busy tenant.</summary>
    public int ImportIntervalSeconds { get; init; } = 10;

    /// <summary>Invoices per imported file.</summary>
    public int InvoicesPerFile { get; init; } = 50;

    public int MemorySampleSeconds { get; init; } = 10;

    /// <summary>Tenants provisioned at once.</summary>
    public int ProvisioningParallelism { get; init; } = 3;

    /// <summary>When set, the report is also written there as JSON (the smoke test reads it).</summary>
    public string? ReportFile { get; init; }

    public int ClerkTenantCount => Math.Max(1, Math.Min(ClerkTenants, Tenants - BusyTenantCount));

    public int BusyTenantCount => Math.Max(Tenants > 1 ? 1 : 0, Math.Min(BusyTenants, Tenants - 1));

    public static LoadSettings FromEnvironment()
    {
        var defaults = new LoadSettings();
        return new LoadSettings
        {
            Tenants = Int("TENANTS", defaults.Tenants, 2),
            Invoices = Int("INVOICES", defaults.Invoices, 10),
            Users = Int("USERS", defaults.Users, 1),
            ClerkTenants = Int("CLERK_TENANTS", defaults.ClerkTenants, 1),
            BusyTenants = Int("BUSY_TENANTS", defaults.BusyTenants, 1),
            Seconds = Int("SECONDS", defaults.Seconds, 1),
            WarmupSeconds = Int("WARMUP_SECONDS", defaults.WarmupSeconds, 0),
            ThinkMilliseconds = Int("THINK_MS", defaults.ThinkMilliseconds, 0),
            EmailsPerSecond = Double("EMAILS_PER_SECOND", defaults.EmailsPerSecond),
            ImportIntervalSeconds = Int("IMPORT_INTERVAL_SECONDS", defaults.ImportIntervalSeconds, 1),
            InvoicesPerFile = Int("INVOICES_PER_FILE", defaults.InvoicesPerFile, 1),
            MemorySampleSeconds = Int("MEMORY_SAMPLE_SECONDS", defaults.MemorySampleSeconds, 1),
            ProvisioningParallelism = Int("PROVISIONING_PARALLELISM", defaults.ProvisioningParallelism, 1),
            ReportFile = Environment.GetEnvironmentVariable(Prefix + "REPORT") is { Length: > 0 } path ? path : null,
        };
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Tenants} tenants × {Invoices} invoices; {Users} users over {ClerkTenantCount} tenants ({ThinkMilliseconds} ms between calls, each with a Watch open); " +
        $"{BusyTenantCount} tenants importing a {InvoicesPerFile}-invoice file every {ImportIntervalSeconds} s and receiving {EmailsPerSecond:0.##} e-mails/s; " +
        $"{WarmupSeconds} s warm-up + {Seconds} s measured");

    private static int Int(string name, int fallback, int minimum)
    {
        var text = Environment.GetEnvironmentVariable(Prefix + name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= minimum
            ? value
            : throw new InvalidOperationException($"{Prefix}{name} must be a whole number ≥ {minimum}, not '{text}'.");
    }

    private static double Double(string name, double fallback)
    {
        var text = Environment.GetEnvironmentVariable(Prefix + name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new InvalidOperationException($"{Prefix}{name} must be a number ≥ 0, not '{text}'.");
    }
}
