using System.Runtime.CompilerServices;
using Grpc.Core;
using Invisible.Identity.Tokens;
using Invisible.Server.Accounts;
using Invisible.Server.Rpc;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Security;

/// <summary>
/// A long-lived call outlives the check its credentials passed when it started. This runs a call's work while its caller
/// may still call: every <see cref="AccountsOptions.StreamSessionCheckInterval"/> it checks the session (or API key) against
/// the database, and it stops at the access token's expiry; when either ends, the work is cancelled and the call ends with
/// UNAUTHENTICATED (SESSION_ENDED), so a sign-out everywhere, a disabled user or a role change reaches open streams too.
/// </summary>
public sealed class StreamSessions(CallerVerification verification, IOptions<AccountsOptions> options, TimeProvider time, ILogger<StreamSessions> logger)
{
    public async Task RunWhileValidAsync(ServerCallContext context, Func<CancellationToken, Task> work)
    {
        var http = context.GetHttpContext();
        var caller = context.Caller();
        var expiresAt = CallerPrincipal.ExpiresAt(http.User);
        using var valid = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var ended = new StrongBox<bool>();
        var checking = EndWhenInvalidAsync(caller, expiresAt, valid, ended);
        try
        {
            await work(valid.Token);
        }
        catch (OperationCanceledException) when (ended.Value && !context.CancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("A stream of {Caller} ended: its session or key is no longer valid", caller.AuditActor);
            throw AuthErrors.SessionEnded();
        }
        finally
        {
            await valid.CancelAsync();
            await checking;
        }
    }

    /// <summary>Once the caller is no longer valid: sets <paramref name="ended"/>, then cancels <paramref name="valid"/>.</summary>
    private async Task EndWhenInvalidAsync(Caller caller, DateTimeOffset? expiresAt, CancellationTokenSource valid, StrongBox<bool> ended)
    {
        try
        {
            while (true)
            {
                var untilExpiry = expiresAt is { } expiry ? expiry - time.GetUtcNow() : TimeSpan.MaxValue;
                var wait = untilExpiry < options.Value.StreamSessionCheckInterval ? untilExpiry : options.Value.StreamSessionCheckInterval;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, valid.Token);
                }

                var expired = expiresAt is { } end && time.GetUtcNow() >= end;
                if (expired || !await verification.IsStillValidAsync(caller, valid.Token))
                {
                    ended.Value = true;
                    await valid.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (valid.IsCancellationRequested)
        {
            // The call ended first.
        }
    }
}
