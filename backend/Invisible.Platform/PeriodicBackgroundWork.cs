using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Invisible.Platform;

/// <summary>
/// Background work that runs at start-up and then every <paramref name="interval"/> until the host stops (clean-ups and
/// sweeps). A failed run is logged and the next one tries again: what it left is still there then.
/// </summary>
/// <param name="work">Names the work in the failure log line, e.g. "Outbox clean-up".</param>
public abstract class PeriodicBackgroundWork(TimeSpan interval, TimeProvider time, ILogger logger, string work) : BackgroundService
{
    protected TimeProvider Time { get; } = time;

    protected ILogger Logger { get; } = logger;

    /// <summary>One run; logs what it did when that is worth telling.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, Time);
        try
        {
            do
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // The database (or blob store) restarting, typically.
                    Logger.LogWarning(e, "{Work} failed; trying again in {Interval}", work, interval);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
