using System.Text.RegularExpressions;

namespace Invisible.Data.Tests;

/// <summary>
/// Data access is linq2db (issue #18): SQL text is kept only where LINQ cannot say it clearly, and each such place says
/// why in a <c>// SQL: reason</c> comment just before it. Reads the source tree of <c>backend/</c>.
/// </summary>
public sealed partial class SqlTextReasonTests
{
    /// <summary>
    /// Files (or folders, ending in '/') that other work is changing while they still carry "LINQ conversion pending"
    /// markers or SQL without a reason; they are exempt from both rules here. Shrink this list as they are converted: an
    /// entry with neither left fails.
    /// </summary>
    internal static readonly IReadOnlyList<string> AwaitingLinqConversion =
    [
    ];

    /// <summary>How far above a statement its reason may stand (a statement's own lines before the call count too).</summary>
    private const int ReasonWindowLines = 8;

    private const string PendingMarker = "LINQ conversion pending";

    private static readonly string Root = FindRepositoryRoot();

    [Fact]
    public void Every_place_in_backend_that_executes_sql_text_says_why_in_a_sql_comment_just_before_it()
    {
        var unexplained = SourceFiles()
            .Where(file => !IsAwaitingConversion(file.Path))
            .SelectMany(file => UnexplainedSqlStatements(file.Lines).Select(line => $"{file.Path}:{line}: {file.Lines[line - 1].Trim()}"))
            .ToList();

        Assert.True(unexplained.Count == 0,
            $"SQL text executed without a '// SQL: <reason>' comment in the {ReasonWindowLines} lines before it " +
            $"(write it in LINQ unless LINQ cannot say it clearly):\n{string.Join('\n', unexplained)}");
    }

    [Fact]
    public void Only_the_listed_files_still_wait_for_their_linq_conversion()
    {
        var files = SourceFiles().ToList();
        var failures = files
            .Where(file => !IsAwaitingConversion(file.Path) && file.Lines.Any(line => line.Contains(PendingMarker, StringComparison.Ordinal)))
            .Select(file => $"{file.Path} carries '{PendingMarker}' but is not in {nameof(AwaitingLinqConversion)}: convert its queries to LINQ")
            .Concat(AwaitingLinqConversion
                .Where(entry => !files.Any(file => Matches(entry, file.Path)
                    && (file.Lines.Any(line => line.Contains(PendingMarker, StringComparison.Ordinal)) || UnexplainedSqlStatements(file.Lines).Count > 0)))
                .Select(entry => $"{entry} has no '{PendingMarker}' marker and no unexplained SQL left: remove it from {nameof(AwaitingLinqConversion)}"))
            .ToList();

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void The_check_tells_a_statement_with_its_reason_from_one_without()
    {
        string[] explained =
        [
            "        // SQL: insert ... on conflict do nothing, which LINQ cannot say.",
            "        await unitOfWork.Db.ExecuteAsync(",
            "            \"insert into t values (1) on conflict do nothing\", cancellationToken);",
        ];
        string[] unexplained =
        [
            "        // Adds the row.",
            "        var id = await unitOfWork.Db.ExecuteAsync<Guid>(\"select id from t\", cancellationToken);",
            "        await using var command = new NpgsqlCommand(\"select 1\", connection);",
            "        await pipeline.ExecuteAsync(cancellationToken);",
        ];

        Assert.Equal(["", "2, 3"], new[] { explained, unexplained }.Select(lines => string.Join(", ", UnexplainedSqlStatements(lines))));
    }

    /// <summary>The 1-based lines that execute SQL text with no <c>SQL:</c> comment in the lines before them.</summary>
    internal static List<int> UnexplainedSqlStatements(IReadOnlyList<string> lines)
    {
        var found = new List<int>();
        for (var index = 0; index < lines.Count; index++)
        {
            var line = lines[index];
            if (line.TrimStart().StartsWith("//", StringComparison.Ordinal) || !ExecutesSqlText().IsMatch(line) || RunsNoSql().IsMatch(line))
            {
                continue;
            }

            var explained = Enumerable.Range(Math.Max(0, index - ReasonWindowLines), index - Math.Max(0, index - ReasonWindowLines))
                .Any(before => ReasonComment().IsMatch(lines[before]));
            if (!explained)
            {
                found.Add(index + 1);
            }
        }

        return found;
    }

    /// <summary>
    /// linq2db's raw SQL calls (and the import merge helpers that wrap them), Npgsql commands and batches built from
    /// text, and COPY.
    /// </summary>
    [GeneratedRegex(@"\.(ExecuteAsync|Execute|QueryToListAsync|QueryToArrayAsync|QueryToAsyncEnumerable|Query|ScalarAsync|QueryAsync|QueryProcAsync|ExecuteProcAsync)\s*(<[^>]*>)?\s*\(|new\s+(Npgsql\.)?Npgsql(Batch)?Command\s*\(|\bCommandText\s*=|\.Begin(Binary|Text|Raw)(Import|Export)(Async)?\s*\(")]
    private static partial Regex ExecutesSqlText();

    /// <summary>Calls of the same names that run no SQL: a resilience pipeline or the like given only a token.</summary>
    [GeneratedRegex(@"\.ExecuteAsync\(\s*(cancellationToken|stoppingToken|token|ct)\s*\)")]
    private static partial Regex RunsNoSql();

    /// <summary>A comment with the reason: <c>// SQL: …</c> (also within a longer comment line, e.g. "Raw SQL: …").</summary>
    [GeneratedRegex(@"^\s*//.*\bSQL:\s*\S")]
    private static partial Regex ReasonComment();

    private static bool IsAwaitingConversion(string path) => AwaitingLinqConversion.Any(entry => Matches(entry, path));

    private static bool Matches(string entry, string path) =>
        entry.EndsWith('/') ? path.StartsWith(entry, StringComparison.Ordinal) : path == entry;

    private static IEnumerable<(string Path, string[] Lines)> SourceFiles()
    {
        var backend = Path.Combine(Root, "backend");
        return Directory.EnumerateFiles(backend, "*.cs", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Root, path).Replace('\\', '/'))
            .Where(path => !path.Contains("/obj/", StringComparison.Ordinal) && !path.Contains("/bin/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(path => (path, File.ReadAllLines(Path.Combine(Root, path))));
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Invisible.Dapr.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Invisible.Dapr.sln above {AppContext.BaseDirectory}.");
    }
}
