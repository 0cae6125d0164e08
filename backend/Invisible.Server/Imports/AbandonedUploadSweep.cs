using Invisible.Data.Tenancy;
using Invisible.Platform;
using Invisible.Server.Tenancy;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Imports;

/// <summary>
/// Removes the chunks of uploads that were started and never completed once their session has expired (before, they stayed
/// in the blob store for ever), every <see cref="UploadQuotaOptions.SweepInterval"/> in the processes that run background
/// work, and frees their places in the tenants' upload quotas.
/// </summary>
public sealed class AbandonedUploadSweep(
    TenantDirectory directory, UploadSessions uploads, IOptions<UploadQuotaOptions> options, TimeProvider time, ILogger<AbandonedUploadSweep> logger)
    : PeriodicBackgroundWork(options.Value.SweepInterval, time, logger, "Sweep of abandoned uploads")
{
    /// <returns>How many abandoned uploads were removed, over all tenants.</returns>
    public Task<int> SweepAsync(CancellationToken cancellationToken) =>
        EveryTenant.SumAsync(directory, uploads.SweepAbandonedAsync, Logger, "Sweep of abandoned uploads", cancellationToken);

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var swept = await SweepAsync(cancellationToken);
        if (swept > 0)
        {
            Logger.LogInformation("Removed the chunks of {Uploads} uploads that expired unfinished", swept);
        }
    }
}
