using Invisible.Data.Access;
using Invisible.Data.Provisioning;
using Invisible.Server.Http;
using LinqToDB.Data;
using Npgsql;

namespace Invisible.Server.Operations;

/// <summary>One thing <c>invisible security check</c> found wrong, and where.</summary>
public sealed record SecurityFinding(string Check, string Detail);

/// <summary>
/// <c>invisible security check</c>, at run time against what is really there: every tenant table under enabled and forced RLS,
/// the application role neither superuser, BYPASSRLS nor an owner, security-definer functions with a pinned <c>search_path</c>,
/// secrets files 0600 and the data directory closed to others, and (given a URL) the documented response headers.
/// </summary>
public sealed class SecurityAudit(string dataDirectory, string appConnectionString)
{
    // The data directory's files holding secrets (FileSecretStore, DatabaseSecretsFile, pgBackRest's configuration with the passphrase).
    private static readonly string[] SecretFiles = ["secrets.json", "database-secrets.json", Path.Combine("pgbackrest", "pgbackrest.conf")];

    public static readonly string[] Checks = ["tenant-tables-rls", "application-role", "security-definer-search-path", "file-modes", "response-headers"];

    public async Task<IReadOnlyList<SecurityFinding>> RunAsync(Uri? server, CancellationToken cancellationToken)
    {
        var findings = new List<SecurityFinding>();
        await using var connection = new NpgsqlConnection(appConnectionString);
        await connection.OpenAsync(cancellationToken);
        using var db = ProductData.On(connection);

        // SQL: questions to PostgreSQL's catalog, here and below, which the product maps no classes for.
        var unprotected = await db.QueryToListAsync<string>(
            """
            select c.relname || ': ' || concat_ws(', ', case when not c.relrowsecurity then 'RLS not enabled' end,
                                                     case when not c.relforcerowsecurity then 'RLS not forced' end)
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'p')
              and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
              and not (c.relrowsecurity and c.relforcerowsecurity)
            order by 1
            """, cancellationToken);
        findings.AddRange(unprotected.Select(table => new SecurityFinding("tenant-tables-rls", table)));

        try
        {
            await ApplicationRoleCheck.EnsureSafeAsync(appConnectionString, cancellationToken);
        }
        catch (InvalidOperationException unsafeRole)
        {
            findings.Add(new SecurityFinding("application-role", unsafeRole.Message));
        }

        // SQL: reads the pg_proc catalog (SECURITY DEFINER functions without a pinned search_path).
        var unpinned = await db.QueryToListAsync<string>(
            """
            select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'public' and p.prosecdef
              and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) setting where setting like 'search_path=%')
            order by 1
            """, cancellationToken);
        findings.AddRange(unpinned.Select(function => new SecurityFinding("security-definer-search-path", $"{function} runs as its owner without a pinned search_path")));

        findings.AddRange(CheckFileModes());
        if (server is not null)
        {
            findings.AddRange(await CheckHeadersAsync(server, cancellationToken));
        }

        return findings;
    }

    private IEnumerable<SecurityFinding> CheckFileModes()
    {
        if (OperatingSystem.IsWindows())
        {
            yield break;
        }

        var directoryMode = File.GetUnixFileMode(dataDirectory);
        // 0711 is the embedded cluster's need when it runs as another account (it must reach its folder); reading or writing never.
        const UnixFileMode readOrWrite = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        if ((directoryMode & readOrWrite) != 0)
        {
            yield return new SecurityFinding("file-modes", $"{dataDirectory} is {Octal(directoryMode)}; must be 0700 (0711 when the cluster runs as the postgres user)");
        }

        foreach (var file in SecretFiles.Select(name => Path.Combine(dataDirectory, name)).Where(File.Exists))
        {
            var mode = File.GetUnixFileMode(file);
            if ((mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) != 0)
            {
                yield return new SecurityFinding("file-modes", $"{file} is {Octal(mode)}; must be 0600");
            }
        }
    }

    private static async Task<IEnumerable<SecurityFinding>> CheckHeadersAsync(Uri server, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync("/healthz", cancellationToken);
        var expected = new Dictionary<string, string>
        {
            ["Content-Security-Policy"] = SecurityHeaders.ContentSecurityPolicy,
            ["X-Content-Type-Options"] = "nosniff",
            ["X-Frame-Options"] = "DENY",
            ["Referrer-Policy"] = "strict-origin-when-cross-origin",
            ["Permissions-Policy"] = SecurityHeaders.PermissionsPolicy,
        };
        if (server.Scheme == Uri.UriSchemeHttps)
        {
            expected["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains";
        }

        return expected
            .Where(header => !response.Headers.TryGetValues(header.Key, out var values) || !values.Contains(header.Value))
            .Select(header => new SecurityFinding("response-headers", $"{server} does not send {header.Key}: {header.Value}"))
            .ToList();
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8);
}
