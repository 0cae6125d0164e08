using System.Globalization;
using System.Text;

namespace Invisible.Server.Hosting;

/// <summary>
/// <c>DATA_DIR/logs/invisible.log</c>: one line per entry, appended and flushed as it is logged, so the file is complete
/// up to the moment a process dies. Created on the first entry: a verb that logs nothing (a remote call) leaves no data
/// directory behind. Rotated daily (UTC): the first entry of a day moves a file last written on an earlier day to
/// <c>invisible-YYYY-MM-DD.log</c> (that day), which the retention run removes after 90 days.
/// </summary>
[ProviderAlias("File")]
internal sealed class ProductLogFileProvider(string logFile) : ILoggerProvider
{
    // One lock for the whole process: the boot loggers and the host's loggers write the same file through two providers.
    private static readonly Lock FileLock = new();

    private FileStream? _stream;
    private DateOnly _day;
    private bool _unwritable;
    private bool _disposed;

    public ILogger CreateLogger(string categoryName) => new LineLogger(categoryName, LogLevel.Trace, Append);

    public void Dispose()
    {
        lock (FileLock)
        {
            _disposed = true;
            _stream?.Dispose();
            _stream = null;
        }
    }

    private void Append(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        lock (FileLock)
        {
            if (_unwritable)
            {
                return;
            }

            try
            {
                if (_disposed)
                {
                    // A logger outliving its host (a component logging its own disposal late): appended all the same.
                    using var late = Open();
                    late.Write(bytes);
                    return;
                }

                var today = DateOnly.FromDateTime(DateTime.UtcNow);
                if (today != _day)
                {
                    _day = today;
                    _stream?.Dispose();
                    _stream = null;
                    RotateWrittenBefore(today);
                }

                _stream ??= Open();
                // Another process (`up` and a verb attached to its cluster) may have appended since: write at the end.
                _stream.Seek(0, SeekOrigin.End);
                _stream.Write(bytes);
                _stream.Flush();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // A read-only data directory must not stop the product; the terminal says so once, and then only its own level.
                _unwritable = true;
                Console.Error.WriteLine($"Cannot write the log file {logFile} ({exception.Message}); its entries are not kept.");
            }
        }
    }

    /// <summary>
    /// Moves the log file aside when it was last written before <paramref name="today"/>. Several processes may write the file:
    /// the first to see the new day moves it, the others find today's file and only reopen theirs.
    /// </summary>
    private void RotateWrittenBefore(DateOnly today)
    {
        if (!File.Exists(logFile))
        {
            return;
        }

        var lastWritten = DateOnly.FromDateTime(File.GetLastWriteTimeUtc(logFile));
        if (lastWritten >= today)
        {
            return;
        }

        var rotated = Path.Combine(
            Path.GetDirectoryName(logFile)!,
            $"{Path.GetFileNameWithoutExtension(logFile)}-{lastWritten.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}{Path.GetExtension(logFile)}");
        try
        {
            File.Move(logFile, rotated, overwrite: false);
        }
        catch (IOException)
        {
            // Another process moved it first (or that day's file exists): keep appending to the current one.
        }
    }

    private FileStream Open()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var stream = new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        return stream;
    }
}

/// <summary>Standard error, from a minimum level on, in the log file's format.</summary>
[ProviderAlias("Terminal")]
internal sealed class TerminalLoggerProvider(LogLevel minimumLevel) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new LineLogger(categoryName, minimumLevel, WriteLine);

    public void Dispose()
    {
    }

    // Console.Error is synchronised: concurrent entries come out as whole lines. Looked up per entry, so a redirect applies.
    private static void WriteLine(string line) => Console.Error.WriteLine(line);
}

/// <summary>
/// One entry as one line: "2025-06-01T09:30:12.345Z Information Category[EventId]: message exception". Line breaks inside
/// the message or the exception are written as "\n", so every line is an entry (grep, tail and log collectors agree).
/// </summary>
internal sealed class LineLogger(string category, LogLevel minimumLevel, Action<string> write) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimumLevel;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        write(Format(DateTimeOffset.UtcNow, logLevel, category, eventId, formatter(state, exception), exception));
    }

    internal static string Format(DateTimeOffset timestamp, LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        var line = new StringBuilder()
            .Append(timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
            .Append(' ').Append(level)
            .Append(' ').Append(category);
        if (eventId.Id != 0)
        {
            line.Append('[').Append(eventId.Id).Append(']');
        }

        line.Append(": ").Append(OneLine(message));
        if (exception is not null)
        {
            line.Append(' ').Append(OneLine(exception.ToString()));
        }

        return line.ToString();
    }

    private static string OneLine(string text) => text.Replace("\r\n", "\\n", StringComparison.Ordinal).Replace('\r', '\n').Replace("\n", "\\n", StringComparison.Ordinal);
}
