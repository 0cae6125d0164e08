using System.Globalization;
using System.Reflection;
using Invisible.Data.Backups;
using Invisible.Identity.Tokens;
using Invisible.Platform;
using Invisible.Platform.Dapr;
using Invisible.Platform.Email;
using Invisible.Platform.Events;
using Invisible.Server.Accounts;
using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Invisible.Server.Rpc;
using Npgsql;

namespace Invisible.Server.Operations;

/// <summary>One configured value and the source it came from (the last source that sets it wins).</summary>
public sealed record ConfiguredSetting(string Key, string Value, string Source);

/// <summary>
/// <c>invisible config check</c>: every setting of the product's sections with its source, and what is wrong: keys no options class
/// has (likely typos, with the nearest known name), values that do not bind, invalid URLs and ports, connection strings that do not
/// parse, and development values of secrets (docker-compose's <c>dev-…</c> defaults).
/// </summary>
public static class ConfigurationAudit
{
    // Longest first, so Auth:AccessTokens is matched before Auth.
    private static readonly (string Section, Type Options)[] Sections =
    [
        (AccessTokenOptions.Section, typeof(AccessTokenOptions)),
        (DatabaseSupervisionOptions.Section, typeof(DatabaseSupervisionOptions)),
        (KeptFileOptions.SectionName, typeof(KeptFileOptions)),
        (ServerOptions.Section, typeof(ServerOptions)),
        (BackupOptions.SectionName, typeof(BackupOptions)),
        (MetricsOptions.SectionName, typeof(MetricsOptions)),
        (EventsOptions.SectionName, typeof(EventsOptions)),
        (DaprOptions.SectionName, typeof(DaprOptions)),
        (EmailOptions.SectionName, typeof(EmailOptions)),
        (RuntimeOptions.SectionName, typeof(RuntimeOptions)),
        (RpcOptions.SectionName, typeof(RpcOptions)),
        (AccountsOptions.Section, typeof(AccountsOptions)),
    ];

    // Top-level sections that only hold the sub-sections above.
    private static readonly string[] ParentSections = ["Database", "Imports"];

    private static readonly string[] SecretKeyWords = ["password", "secret", "token", "key", "connectionstrings"];

    private static readonly string[] SecretSettings = ["DAPR_API_TOKEN", "APP_API_TOKEN"];

    public static IReadOnlyList<ConfiguredSetting> Settings(IConfigurationRoot configuration) =>
        configuration.AsEnumerable()
            .Where(pair => pair.Value is not null && IsProductKey(pair.Key))
            .OrderBy(pair => pair.Key, StringComparer.OrdinalIgnoreCase)
            .Select(pair => new ConfiguredSetting(pair.Key, Redact(pair.Key, pair.Value!), SourceOf(configuration, pair.Key)))
            .ToList();

    public static IReadOnlyList<string> Problems(IConfigurationRoot configuration)
    {
        var problems = new List<string>();
        foreach (var (key, value) in configuration.AsEnumerable().Where(pair => pair.Value is not null && IsProductKey(pair.Key)))
        {
            if (UnknownKeyProblem(key) is { } unknown)
            {
                problems.Add(unknown);
            }

            var leaf = key[(key.LastIndexOf(':') + 1)..];
            if ((leaf.EndsWith("Url", StringComparison.OrdinalIgnoreCase) || leaf.EndsWith("Endpoint", StringComparison.OrdinalIgnoreCase)
                 || leaf.EndsWith("Uri", StringComparison.OrdinalIgnoreCase)) && value!.Length > 0
                && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "smtp" or "smtps"))
            {
                problems.Add($"{key} = '{value}' is not an absolute http(s) URL");
            }

            if (leaf.EndsWith("Port", StringComparison.OrdinalIgnoreCase)
                && !(int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535))
            {
                problems.Add($"{key} = '{value}' is not a port (0-65535)");
            }

            if (IsSecret(key) && (value!.StartsWith("dev-", StringComparison.OrdinalIgnoreCase) || value.Contains("Password=dev-", StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"{key} holds a development value (dev-…); set a real secret");
            }
        }

        foreach (var name in new[] { "Postgres", "PostgresApp" })
        {
            if (configuration.GetConnectionString(name) is { Length: > 0 } connectionString)
            {
                try
                {
                    _ = new NpgsqlConnectionStringBuilder(connectionString);
                }
                catch (ArgumentException exception)
                {
                    problems.Add($"ConnectionStrings:{name} does not parse: {exception.Message}");
                }
            }
        }

        if (configuration.GetConnectionString("Postgres") is { Length: > 0 } && configuration.GetConnectionString("PostgresApp") is not { Length: > 0 })
        {
            problems.Add("ConnectionStrings:Postgres is set without ConnectionStrings:PostgresApp (the application role's connection)");
        }

        foreach (var (section, type) in Sections)
        {
            try
            {
                _ = configuration.GetSection(section).Get(type);
            }
            catch (InvalidOperationException exception)
            {
                problems.Add($"{section}: {exception.Message}");
            }
        }

        return problems;
    }

    private static string? UnknownKeyProblem(string key)
    {
        var segments = key.Split(':');
        foreach (var (section, type) in Sections)
        {
            var sectionSegments = section.Split(':');
            if (segments.Length <= sectionSegments.Length
                || !segments.Take(sectionSegments.Length).SequenceEqual(sectionSegments, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            var name = segments[sectionSegments.Length];
            var known = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(property => property.CanWrite || IsCollection(property.PropertyType)).Select(property => property.Name).ToList();
            if (known.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                return null;
            }

            var nearest = known.OrderBy(candidate => Distance(candidate.ToLowerInvariant(), name.ToLowerInvariant())).FirstOrDefault();
            return $"{key} is not a setting of {section} (a typo? nearest: {section}:{nearest})";
        }

        return ParentSections.Contains(segments[0], StringComparer.OrdinalIgnoreCase) && segments.Length > 1
            ? $"{key} is not a setting (known under {segments[0]}: {string.Join(", ", Sections.Where(s => s.Section.StartsWith(segments[0] + ":", StringComparison.Ordinal)).Select(s => s.Section))})"
            : null;
    }

    private static bool IsCollection(Type type) => type != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(type);

    private static bool IsProductKey(string key)
    {
        var first = key.Split(':')[0];
        return Sections.Any(section => section.Section.Split(':')[0].Equals(first, StringComparison.OrdinalIgnoreCase))
               || ParentSections.Contains(first, StringComparer.OrdinalIgnoreCase)
               || first.Equals("ConnectionStrings", StringComparison.OrdinalIgnoreCase)
               || SecretSettings.Contains(first, StringComparer.Ordinal)
               || first.StartsWith("OTEL_", StringComparison.Ordinal);
    }

    private static bool IsSecret(string key) =>
        SecretSettings.Contains(key, StringComparer.Ordinal) || SecretKeyWords.Any(word => key.Contains(word, StringComparison.OrdinalIgnoreCase));

    private static string Redact(string key, string value) =>
        !IsSecret(key) || value.Length == 0 ? value
        : key.StartsWith("ConnectionStrings", StringComparison.OrdinalIgnoreCase) ? RedactConnectionString(value)
        : "(set, hidden)";

    private static string RedactConnectionString(string value)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(value);
            if (!string.IsNullOrEmpty(builder.Password))
            {
                builder.Password = "***";
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "(unparseable, hidden)";
        }
    }

    private static string SourceOf(IConfigurationRoot configuration, string key)
    {
        foreach (var provider in configuration.Providers.Reverse())
        {
            if (provider.TryGet(key, out _))
            {
                return provider.ToString() ?? provider.GetType().Name;
            }
        }

        return "default";
    }

    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
