using System.Text;

namespace Invisible.Ingestion.Validation;

/// <summary>
/// Collects every error of one file, keeping the first <c>maxErrors</c> and counting the rest, so that a file with a
/// million bad rows costs no more memory than one with a thousand.
/// </summary>
public sealed class ErrorCollector(string fileName, int maxErrors)
{
    /// <summary>Values in errors are cut to this many characters: enough to recognise, not enough to leak a document.</summary>
    public const int MaxValueLength = 80;

    private readonly List<ImportError> _errors = [];
    private readonly List<ImportWarning> _warnings = [];

    public string FileName => fileName;
    public long TotalCount { get; private set; }
    public bool HasErrors => TotalCount > 0;
    public IReadOnlyList<ImportError> Errors => _errors;
    public IReadOnlyList<ImportWarning> Warnings => _warnings;

    public void Add(int line, string? column, string? value, string reason, string? code = null)
    {
        TotalCount++;
        if (_errors.Count < maxErrors)
        {
            _errors.Add(new ImportError(fileName, line, column, Sanitize(value), reason, code));
        }
    }

    public void Warn(int line, string? column, string message)
    {
        // Warnings are per column or per document, never per row, so they stay few without a cap of their own.
        _warnings.Add(new ImportWarning(fileName, line, column, message));
    }

    /// <summary>Strips control characters (they break terminals and CSV readers) and truncates long values.</summary>
    public static string? Sanitize(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var builder = new StringBuilder(Math.Min(value.Length, MaxValueLength + 1));
        foreach (var c in value)
        {
            if (builder.Length == MaxValueLength)
            {
                builder.Append('…');
                break;
            }

            if (!char.IsControl(c))
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
