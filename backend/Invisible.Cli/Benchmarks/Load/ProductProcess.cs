using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Invisible.Server.Hosting;

namespace Invisible.Cli.Benchmarks.Load;

/// <summary>
/// One product process as a deployment runs it, <c>invisible serve --role ROLE</c> of this build (Release under
/// <c>./invisible bench</c>), on the benchmark's database through <c>ConnectionStrings</c>; its output goes to a log file in
/// the work directory. Its resident memory is read from <c>/proc/PID/status</c>.
/// </summary>
internal sealed class ProductProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ProductProcess(string name, ServerRole role, Process process, StreamWriter log, Uri http, IPEndPoint? smtp)
    {
        Name = name;
        Role = role;
        _process = process;
        _log = log;
        Http = http;
        Smtp = smtp;
    }

    public string Name { get; }

    public ServerRole Role { get; }

    public Uri Http { get; }

    /// <summary>The SMTP intake listener (api and all roles).</summary>
    public IPEndPoint? Smtp { get; }

    public int Id => _process.Id;

    /// <param name="settings">Configuration as environment variables (<c>Section__Key</c>).</param>
    public static async Task<ProductProcess> StartAsync(
        string name, ServerRole role, string dataDirectory, string logDirectory, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var httpPort = FreePort();
        var smtpPort = role == ServerRole.Worker ? 0 : FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
                 {
                     typeof(ProductProcess).Assembly.Location, "serve", "--role", role.ToString().ToLowerInvariant(),
                     "--port", httpPort.ToString(CultureInfo.InvariantCulture), "--grpc-port", "0", "--data-dir", dataDirectory,
                 })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        if (role != ServerRole.Worker)
        {
            start.Environment["Email__Intake__Port"] = smtpPort.ToString(CultureInfo.InvariantCulture);
        }

        var log = new StreamWriter(Path.Combine(logDirectory, $"{name}.log")) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {name}");
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                try
                {
                    log.WriteLine(line);
                }
                catch (ObjectDisposedException)
                {
                    // The last lines of a process that is being stopped, after its log was closed.
                }
            }

            if (line.Contains(" listening on ", StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var product = new ProductProcess(
            name, role, process, log, new Uri($"http://127.0.0.1:{httpPort}"), role == ServerRole.Worker ? null : new IPEndPoint(IPAddress.Loopback, smtpPort));
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromMinutes(2));
            var exited = process.WaitForExitAsync(deadline.Token);
            if (await Task.WhenAny(listening.Task, exited) != listening.Task || process.HasExited)
            {
                throw new InvalidOperationException($"{name} (serve --role {role}) did not start; see {Path.Combine(logDirectory, $"{name}.log")}");
            }
        }
        catch
        {
            await product.DisposeAsync();
            throw;
        }

        return product;
    }

    /// <summary>The process's resident set in bytes (VmRSS), 0 once it has exited.</summary>
    public long ResidentBytes()
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(line => line.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var signal = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await signal.WaitForExitAsync();
            }

            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
