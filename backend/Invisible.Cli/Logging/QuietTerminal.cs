using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Invisible.Cli.Logging;

/// <summary>
/// Standard error of a quiet command line: the product's log entries go to the data directory's log file, and of them only
/// warnings and errors (or, with <c>--verbose</c>, all) also reach the terminal; whatever else is written to standard error
/// (a verb's own messages) passes through unchanged.
/// </summary>
/// <remarks>
/// Why a writer and not a logging provider: <c>LocalProduct</c> and <c>InvisibleServer</c> (Invisible.Server) build their
/// loggers themselves with <c>ProductLogging.AddProductConsole</c>, the embedded cluster's start among them, and take no
/// logging configuration from the CLI. That console format writes each entry as one line, "HH:mm:ss level: category[id]
/// message" (exceptions included), which is what <see cref="LogEntry"/> recognises. When those hosts accept the CLI's
/// logging setup, a file provider replaces this class.
/// </remarks>
internal sealed partial class QuietTerminal(TextWriter terminal, string logFile, bool verbose) : TextWriter
{
    private readonly StringBuilder _line = new();
    private StreamWriter? _file;
    private bool _fileFailed;

    public override Encoding Encoding => terminal.Encoding;

    /// <summary>Where the log file of <paramref name="dataDirectory"/> is.</summary>
    public static string LogFileOf(string dataDirectory) => Path.Combine(dataDirectory, "logs", "invisible.log");

    public override void Write(char value)
    {
        _line.Append(value);
        if (value == '\n')
        {
            RouteLine();
        }
    }

    public override void Write(string? value) => Write(value.AsSpan());

    public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

    public override void Write(ReadOnlySpan<char> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var newline = buffer.IndexOf('\n');
            if (newline < 0)
            {
                _line.Append(buffer);
                return;
            }

            _line.Append(buffer[..(newline + 1)]);
            RouteLine();
            buffer = buffer[(newline + 1)..];
        }
    }

    public override void Flush()
    {
        // A partial line is never a log entry (each arrives whole, newline included): it is a verb's own text.
        if (_line.Length > 0)
        {
            terminal.Write(_line.ToString());
            _line.Clear();
        }

        terminal.Flush();
        _file?.Flush();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Flush();
            _file?.Dispose();
            _file = null;
        }

        base.Dispose(disposing);
    }

    private void RouteLine()
    {
        var line = _line.ToString();
        _line.Clear();
        var entry = LogEntry().Match(line);
        if (!entry.Success)
        {
            terminal.Write(line);
            terminal.Flush();
            return;
        }

        var written = TryAppendToFile(line);
        if (verbose || !written || entry.Groups["level"].ValueSpan is "warn" or "fail" or "crit")
        {
            terminal.Write(line);
            terminal.Flush();
        }
    }

    /// <summary>False when the file cannot be written (e.g. a read-only data directory): the entry then goes to the terminal.</summary>
    private bool TryAppendToFile(string line)
    {
        if (_fileFailed)
        {
            return false;
        }

        try
        {
            if (_file is null)
            {
                // Created on the first entry only: remote verbs, which log nothing, leave the data directory untouched.
                Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
                _file = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { AutoFlush = true };
            }

            // The console format stamps only the time; a file kept across days needs the date.
            _file.Write(DateTime.Now.ToString("yyyy-MM-dd ", CultureInfo.InvariantCulture));
            _file.Write(line);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            _fileFailed = true;
            terminal.WriteLine($"Cannot write the log file {logFile} ({exception.Message}); logging to the terminal instead.");
            return false;
        }
    }

    [GeneratedRegex(@"^\d{2}:\d{2}:\d{2} (?<level>trce|dbug|info|warn|fail|crit): ", RegexOptions.CultureInvariant)]
    private static partial Regex LogEntry();
}
