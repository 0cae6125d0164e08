using Invisible.Data.Tenancy;
using Invisible.Server.Exceptions;
using Invisible.Server.Matching;

namespace Invisible.Cli.Benchmarks.Load;

/// <summary>
/// The baseline of <c>bench load</c>: the read calls' own queries sent straight to PostgreSQL, each in a tenant unit of work
/// on the application role's pool, by as many simulated users over the same tenants with the same pauses, while nothing else
/// runs: what the database alone costs for the same pages, without HTTP, gRPC-Web, authentication or the product's process.
/// </summary>
internal static class LoadBaseline
{
    public static async Task<IReadOnlyList<CallFigures>> RunAsync(
        TenantDatabase tenants, IReadOnlyList<LoadTenant> clerkTenants, LoadSettings settings, int seconds, CancellationToken cancellationToken)
    {
        var recorder = new LoadRecorder();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var users = Enumerable.Range(0, settings.Users).Select(user => UserAsync(tenants, clerkTenants[user % clerkTenants.Count], user, recorder, settings, stop.Token)).ToList();
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(settings.WarmupSeconds, 5)), cancellationToken);
        recorder.StartMeasuring();
        await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken);
        recorder.StopMeasuring();
        await stop.CancelAsync();
        await Task.WhenAll(users);
        return recorder.Figures();
    }

    private static async Task UserAsync(TenantDatabase tenants, LoadTenant tenant, int user, LoadRecorder recorder, LoadSettings settings, CancellationToken stop)
    {
        var random = new Random(user);
        try
        {
            await Task.Delay(random.Next(settings.ThinkMilliseconds + 1), stop);
            while (!stop.IsCancellationRequested)
            {
                var page = await recorder.CallAsync(LoadWorkload.ListInvoices, true, async () =>
                {
                    await using var unitOfWork = await tenants.BeginAsync(tenant.Id, CancellationToken.None);
                    var search = Search(random);
                    var (items, _) = await InvoiceQueries.PageAsync(unitOfWork, search, after: null, 50, CancellationToken.None);
                    await InvoiceQueries.CountAsync(unitOfWork, search, CancellationToken.None);
                    return items;
                });
                await ThinkAsync(random, settings, stop);
                if (page is { Count: > 0 })
                {
                    var invoice = page[random.Next(page.Count)];
                    await recorder.CallAsync(LoadWorkload.GetInvoice, true, async () =>
                    {
                        await using var unitOfWork = await tenants.BeginAsync(tenant.Id, CancellationToken.None);
                        return await InvoiceQueries.GetAsync(unitOfWork, invoice.InvoiceId, CancellationToken.None)
                            ?? throw new InvalidOperationException($"invoice {invoice.InvoiceId} is not there");
                    });
                    await ThinkAsync(random, settings, stop);
                }

                await recorder.CallAsync(LoadWorkload.ListExceptions, true, async () =>
                {
                    await using var unitOfWork = await tenants.BeginAsync(tenant.Id, CancellationToken.None);
                    var filter = new ExceptionFilter(
                        ["open", "in_review"], null, null, null, null, null, null, random.Next(2) == 0 ? ExceptionOrder.Oldest : ExceptionOrder.AmountDescending, DateTimeOffset.UtcNow);
                    return await ExceptionQueries.ListAsync(unitOfWork, filter, 0, 25, CancellationToken.None);
                });
                await ThinkAsync(random, settings, stop);

                await recorder.CallAsync(LoadWorkload.GetDashboard, true, async () =>
                {
                    await using var unitOfWork = await tenants.BeginAsync(tenant.Id, CancellationToken.None);
                    return await DashboardQueries.ReadAsync(unitOfWork, DateTimeOffset.UtcNow, CancellationToken.None);
                });
                await ThinkAsync(random, settings, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>The same filters <see cref="LoadWorkload"/>'s clerks ask for, as the handler turns them into a search.</summary>
    private static InvoiceSearch Search(Random random) => random.Next(5) switch
    {
        0 => new InvoiceSearch(null, null, null, InvoiceSortBy.ImportOrder, false),
        1 => new InvoiceSearch("exception", null, null, InvoiceSortBy.ImportOrder, false),
        2 => new InvoiceSearch("matched", null, null, InvoiceSortBy.Total, true),
        3 => new InvoiceSearch(null, null, null, InvoiceSortBy.InvoiceDate, true),
        _ => new InvoiceSearch(null, null, random.Next(10, 99).ToString(System.Globalization.CultureInfo.InvariantCulture), InvoiceSortBy.ImportOrder, false),
    };

    private static Task ThinkAsync(Random random, LoadSettings settings, CancellationToken stop) =>
        settings.ThinkMilliseconds == 0 ? Task.CompletedTask : Task.Delay(settings.ThinkMilliseconds / 2 + random.Next(settings.ThinkMilliseconds + 1), stop);
}
