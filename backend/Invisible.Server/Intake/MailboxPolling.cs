using Microsoft.Extensions.Options;

namespace Invisible.Server.Intake;

/// <summary>
/// Keeps one <see cref="MailboxPoller.WatchAsync"/> running per connected mailbox, noticing newly connected ones every
/// <c>Email:Intake:Imap:PollInterval</c> and at once when an admin connects one in this process; a watch ends by itself when its mailbox is disconnected.
/// </summary>
public sealed class MailboxPolling(MailboxPoller poller, MailboxSignals signals, IOptions<MailboxPollingOptions> options, TimeProvider time, ILogger<MailboxPolling> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var watches = new Dictionary<Guid, Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    foreach (var tenantId in await poller.TenantsWithMailboxAsync(stoppingToken))
                    {
                        if (!watches.TryGetValue(tenantId, out var watch) || watch.IsCompleted)
                        {
                            watches[tenantId] = Task.Run(() => poller.WatchAsync(tenantId, stoppingToken), stoppingToken);
                        }
                    }
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "The connected mailboxes could not be listed");
                }

                // A mailbox an admin just connected is watched at once rather than at the next round.
                using var nextRound = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, signals.AnyChangedToken());
                try
                {
                    await Task.Delay(options.Value.PollInterval, time, nextRound.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await Task.WhenAll(watches.Values.Select(watch => watch.ContinueWith(_ => { }, TaskScheduler.Default)));
        }
    }
}
