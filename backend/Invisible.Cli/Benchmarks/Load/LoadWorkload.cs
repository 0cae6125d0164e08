using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Invisible.Contracts.Events.V1;
using Invisible.Contracts.Exceptions.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Reconciliation.Documents;
using Invisible.Server.Security;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Imports = Invisible.Contracts.Imports.V1;

namespace Invisible.Cli.Benchmarks.Load;

/// <summary>Where the product under load listens: one entry per <c>api</c> process (clients are spread over them).</summary>
internal sealed record LoadTarget(IReadOnlyList<Uri> Http, IReadOnlyList<IPEndPoint> Smtp, string IntakeDomain);

/// <param name="Streams">Watch streams open during the run (one per user and one per busy tenant).</param>
/// <param name="Expected">Commits each stream should have seen (its tenant's outbox rows between the streams' start and the stop), summed.</param>
/// <param name="Missing">Of those, the ones a stream did not deliver.</param>
/// <param name="StreamsPerReplica">How many streams each api process served.</param>
internal sealed record WatchCheck(int Streams, long Expected, long Missing, IReadOnlyList<int> StreamsPerReplica);

/// <param name="Sent">E-mails accepted (SMTP 250) while measuring.</param>
/// <param name="LatenciesMs">SMTP 250 → the invoice's decision on a Watch stream, sorted, for those seen decided.</param>
internal sealed record ArrivalFigures(int Sent, IReadOnlyList<double> LatenciesMs);

/// <param name="EmailedInvoiceIds">The stored invoices of the e-mails accepted while measuring.</param>
internal sealed record LoadReport(IReadOnlyList<CallFigures> Calls, WatchCheck Watch, ArrivalFigures Arrivals, IReadOnlyList<Guid> EmailedInvoiceIds, double MeasuredSeconds);

/// <summary>
/// The simulated people of <c>bench load</c>, over gRPC-Web on real HTTP with each tenant's API key: clerks on their
/// tenants list and filter invoices, open an invoice's 3-way view, page the exception queue, open the dashboard and approve
/// or re-match an exception, each with a <c>Watch</c> stream open; on the busy tenants a file of invoices is imported every
/// few seconds and e-mailed invoices arrive over SMTP. Everything is timed per call type while measuring.
/// </summary>
internal sealed class LoadWorkload(LoadSettings settings, LoadTarget target, LoadObserver observer, Action<string> report)
{
    public const string ListInvoices = "ListInvoices (filtered page)";
    public const string GetInvoice = "GetInvoice (3-way view)";
    public const string ListExceptions = "ListExceptions (queue page)";
    public const string GetDashboard = "GetDashboard";
    public const string Approve = "ApproveException";
    public const string RematchCandidates = "ListRematchCandidates";
    public const string Rematch = "RematchException";
    public const string WatchStream = "Watch (stream open)";
    public const string ImportFile = "Import file (upload → stored)";
    public const string SendEmail = "E-mail (SMTP, to 250)";

    private static readonly (string Call, bool Interactive)[] CallTypes =
    [
        (ListInvoices, true), (GetInvoice, true), (ListExceptions, true), (GetDashboard, true), (Approve, true), (RematchCandidates, true), (Rematch, true),
        (WatchStream, false), (ImportFile, false), (SendEmail, false),
    ];

    private readonly LoadRecorder _recorder = new();
    private readonly ConcurrentDictionary<(Guid Tenant, string Number), long> _accepted = new();
    private readonly ConcurrentDictionary<(Guid Tenant, Guid Invoice), long> _decided = new();
    private readonly List<Watcher> _watchers = [];

    /// <param name="run">Which of <paramref name="runs"/> runs this is: each takes its own share of the busy tenants' files and e-mails.</param>
    public async Task<LoadReport> RunAsync(IReadOnlyList<LoadTenant> tenants, int run, int runs, CancellationToken cancellationToken)
    {
        foreach (var (call, interactive) in CallTypes)
        {
            _recorder.Declare(call, interactive);
        }

        var clerkTenants = tenants.Where(tenant => !tenant.Busy).Take(settings.ClerkTenantCount).ToList();
        var busyTenants = tenants.Where(tenant => tenant.Busy).Take(settings.BusyTenantCount).ToList();
        var channels = target.Http.Select(CreateChannel).ToList();
        try
        {
            using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

            // One stream per user on the replica that user calls, and one per busy tenant, so each tenant is watched on every replica.
            var users = Enumerable.Range(0, settings.Users).Select(user =>
            {
                var tenant = clerkTenants[user % clerkTenants.Count];
                var slot = user / clerkTenants.Count;
                var slots = settings.Users / clerkTenants.Count + (user % clerkTenants.Count < settings.Users % clerkTenants.Count ? 1 : 0);
                return (User: user, Tenant: tenant, Slot: slot, Slots: slots, Replica: (user + user / clerkTenants.Count) % channels.Count);
            }).ToList();
            foreach (var user in users)
            {
                _watchers.Add(new Watcher(user.Tenant, user.Replica));
            }

            foreach (var (tenant, index) in busyTenants.Select((tenant, index) => (tenant, index)))
            {
                _watchers.Add(new Watcher(tenant, index % channels.Count));
            }

            report($"opening {_watchers.Count} Watch streams");
            var watching = _watchers.Select(watcher => WatchAsync(channels[watcher.Replica], watcher, stopWatching.Token)).ToList();
            await Task.WhenAll(_watchers.Select(watcher => watcher.Started.Task)).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            var watchedTenants = _watchers.Select(watcher => watcher.Tenant.Id).Distinct().ToList();
            var startPositions = await observer.OutboxPositionsAsync(watchedTenants, cancellationToken);

            report($"load: {settings.Users} users, {busyTenants.Count} busy tenants; warm-up {settings.WarmupSeconds} s");
            var load = new List<Task>();
            load.AddRange(users.Select(user => ClerkAsync(channels[user.Replica], user.Tenant, user.User, user.Slot, user.Slots, stopLoad.Token)));
            load.AddRange(busyTenants.Select((tenant, index) => ImportAsync(channels[index % channels.Count], tenant, Share(tenant.Files, run, runs), stopLoad.Token)));
            load.Add(MailAsync(busyTenants, run, runs, stopLoad.Token));

            await Task.Delay(TimeSpan.FromSeconds(settings.WarmupSeconds), cancellationToken);
            _recorder.StartMeasuring();
            report($"measuring {settings.Seconds} s");
            await Task.Delay(TimeSpan.FromSeconds(settings.Seconds), cancellationToken);
            _recorder.StopMeasuring();
            await stopLoad.CancelAsync();
            await Task.WhenAll(load);
            var endPositions = await observer.OutboxPositionsAsync(watchedTenants, cancellationToken);

            report("waiting for the last decisions and for every stream to catch up");
            var expected = await observer.OutboxEventsAsync(watchedTenants, startPositions, endPositions, cancellationToken);
            var numbers = await WaitForDecisionsAsync(busyTenants, cancellationToken);
            await WaitForStreamsAsync(expected, cancellationToken);
            await stopWatching.CancelAsync();
            await Task.WhenAll(watching);

            var missing = _watchers.Sum(watcher => expected.TryGetValue(watcher.Tenant.Id, out var ids) ? ids.Count(id => !watcher.Seen.ContainsKey(id)) : 0);
            var watchCheck = new WatchCheck(
                _watchers.Count, _watchers.Sum(watcher => expected.TryGetValue(watcher.Tenant.Id, out var ids) ? ids.Count : 0), missing,
                Enumerable.Range(0, channels.Count).Select(replica => _watchers.Count(watcher => watcher.Replica == replica)).ToList());
            var emailed = _accepted.Keys.Select(key => numbers.TryGetValue(key, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).ToList();
            return new LoadReport(_recorder.Figures(), watchCheck, Arrivals(numbers), emailed, _recorder.MeasuredSeconds);
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    private static List<T> Share<T>(IReadOnlyList<T> items, int run, int runs)
    {
        var size = items.Count / Math.Max(1, runs);
        return items.Skip(run * size).Take(size).ToList();
    }

    private static GrpcChannel CreateChannel(Uri http) => GrpcChannel.ForAddress(http, new GrpcChannelOptions
    {
        // gRPC-Web over HTTP/1.1, as a browser on the SPA's port calls; one connection per call in flight and per open stream.
        HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) }),
        HttpVersion = HttpVersion.Version11,
        MaxReceiveMessageSize = 16 * 1024 * 1024,
    });

    private static Metadata Credentials(LoadTenant tenant) => new() { { CallerAuthentication.ApiKeyHeader, tenant.ApiKey } };

    private static CallOptions Options(LoadTenant tenant) => new(Credentials(tenant), DateTime.UtcNow.AddSeconds(30));

    /// <summary>
    /// One clerk: rounds through the screens with a pause between calls, until the stop; the round in progress is finished
    /// (its calls after the stop are not measured), so every clerk makes each call of a round at least once. Approvals and
    /// re-matches take only the exceptions of this user's slot (by id), so two clerks of a tenant never act on the same one at once.
    /// </summary>
    private async Task ClerkAsync(GrpcChannel channel, LoadTenant tenant, int user, int slot, int slots, CancellationToken stop)
    {
        var random = new Random(user);
        var matching = new MatchingService.MatchingServiceClient(channel);
        var exceptions = new ExceptionService.ExceptionServiceClient(channel);
        var round = 0;
        await Task.Delay(random.Next(settings.ThinkMilliseconds + 1), CancellationToken.None);
        do
        {
            round++;
            var list = await _recorder.CallAsync(ListInvoices, true, () => matching.ListInvoicesAsync(InvoiceFilter(random), Options(tenant)).ResponseAsync);
            await ThinkAsync(random);
            if (list is { Invoices.Count: > 0 })
            {
                var invoice = list.Invoices[random.Next(list.Invoices.Count)];
                await _recorder.CallAsync(GetInvoice, true, () => matching.GetInvoiceAsync(new GetInvoiceRequest { InvoiceId = invoice.InvoiceId }, Options(tenant)).ResponseAsync);
                await ThinkAsync(random);
            }

            var queue = await _recorder.CallAsync(ListExceptions, true, () => exceptions.ListExceptionsAsync(
                new ListExceptionsRequest { PageSize = 25, Sort = random.Next(2) == 0 ? ExceptionSort.Oldest : ExceptionSort.AmountDesc }, Options(tenant)).ResponseAsync);
            await ThinkAsync(random);
            if (queue is { NextPageToken.Length: > 0 } && random.Next(2) == 0)
            {
                await _recorder.CallAsync(ListExceptions, true, () => exceptions.ListExceptionsAsync(
                    new ListExceptionsRequest { PageSize = 25, PageToken = queue.NextPageToken }, Options(tenant)).ResponseAsync);
                await ThinkAsync(random);
            }

            await _recorder.CallAsync(GetDashboard, true, () => matching.GetDashboardAsync(new GetDashboardRequest(), Options(tenant)).ResponseAsync);
            await ThinkAsync(random);

            if (queue?.Items.FirstOrDefault(item => SlotOf(item.Id, slots) == slot) is { } mine)
            {
                await ActAsync(exceptions, tenant, mine, round, random);
            }
        }
        while (!stop.IsCancellationRequested);
    }

    /// <summary>Every other round approves the exception; the rounds between re-match it to the engine's best candidate PO when there is one.</summary>
    private async Task ActAsync(ExceptionService.ExceptionServiceClient exceptions, LoadTenant tenant, ExceptionItem item, int round, Random random)
    {
        if (round % 2 == 1)
        {
            var candidates = await _recorder.CallAsync(RematchCandidates, true, () => exceptions.ListRematchCandidatesAsync(
                new ListRematchCandidatesRequest { ExceptionId = item.Id }, Options(tenant)).ResponseAsync);
            await ThinkAsync(random);
            if (candidates?.Candidates.FirstOrDefault(candidate => candidate.PoNumber.Length > 0) is { } candidate)
            {
                await _recorder.CallAsync(Rematch, true, () => exceptions.RematchExceptionAsync(
                    new RematchExceptionRequest { ExceptionId = item.Id, PoNumber = candidate.PoNumber, Reason = "bench load: re-matched to the suggested PO" },
                    Options(tenant)).ResponseAsync);
                return;
            }
        }

        await _recorder.CallAsync(Approve, true, () => exceptions.ApproveExceptionAsync(
            new ApproveExceptionRequest { ExceptionId = item.Id, Reason = "bench load: approved as billed" }, Options(tenant)).ResponseAsync);
    }

    /// <summary>A stable slot per exception id (string hash codes differ between processes and runs).</summary>
    private static int SlotOf(string id, int slots) => slots <= 1 ? 0 : (int)(BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(id))) % (uint)slots);

    /// <summary>What clerks ask the invoice list: everything, a status tab, a sort, a search.</summary>
    private static ListInvoicesRequest InvoiceFilter(Random random) => random.Next(5) switch
    {
        0 => new ListInvoicesRequest { PageSize = 50 },
        1 => new ListInvoicesRequest { PageSize = 50, Status = InvoiceStatus.Exception },
        2 => new ListInvoicesRequest { PageSize = 50, Status = InvoiceStatus.Matched, Sort = InvoiceSort.Total, Descending = true },
        3 => new ListInvoicesRequest { PageSize = 50, Sort = InvoiceSort.InvoiceDate, Descending = true },
        _ => new ListInvoicesRequest { PageSize = 50, Query = random.Next(10, 99).ToString(System.Globalization.CultureInfo.InvariantCulture) },
    };

    private Task ThinkAsync(Random random) =>
        settings.ThinkMilliseconds == 0 ? Task.CompletedTask : Task.Delay(settings.ThinkMilliseconds / 2 + random.Next(settings.ThinkMilliseconds + 1));

    private async Task WatchAsync(GrpcChannel channel, Watcher watcher, CancellationToken stop)
    {
        var client = new EventService.EventServiceClient(channel);
        try
        {
            using var call = client.Watch(new WatchRequest(), Credentials(watcher.Tenant), cancellationToken: stop);
            await foreach (var watchEvent in call.ResponseStream.ReadAllAsync(stop))
            {
                var now = Stopwatch.GetTimestamp();
                if (watchEvent.Topic == "watch.started")
                {
                    watcher.Started.TrySetResult();
                    continue;
                }

                if (Guid.TryParse(watchEvent.Id, out var id))
                {
                    watcher.Seen.TryAdd(id, 0);
                }

                if (watcher.Tenant.Busy && watchEvent.Topic == "exceptions.changed")
                {
                    using var payload = JsonDocument.Parse(watchEvent.PayloadJson);
                    if (payload.RootElement.EnumerateObject().FirstOrDefault(p => p.Name.Equals("invoiceIds", StringComparison.OrdinalIgnoreCase)).Value is
                        { ValueKind: JsonValueKind.Array } ids)
                    {
                        foreach (var invoice in ids.EnumerateArray())
                        {
                            _decided.TryAdd((watcher.Tenant.Id, invoice.GetGuid()), now);
                        }
                    }
                }
            }

            _recorder.Fail(WatchStream, false, "a Watch stream ended before the run did");
        }
        catch (Exception e) when (stop.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
        }
        catch (RpcException e)
        {
            _recorder.Fail(WatchStream, false, $"{e.StatusCode}: {e.Status.Detail}");
        }
        finally
        {
            watcher.Started.TrySetResult();
        }
    }

    /// <summary>A busy tenant's clerk importing its next invoice file every few seconds through the upload API.</summary>
    private async Task ImportAsync(GrpcChannel channel, LoadTenant tenant, List<byte[]> files, CancellationToken stop)
    {
        var client = new Imports.ImportService.ImportServiceClient(channel);
        var random = new Random(tenant.Slug.GetHashCode(StringComparison.Ordinal));
        try
        {
            await Task.Delay(random.Next(settings.ImportIntervalSeconds * 1000), stop);
            var number = 0;
            foreach (var file in files)
            {
                stop.ThrowIfCancellationRequested();
                var started = Stopwatch.GetTimestamp();
                number++;
                await _recorder.CallAsync(ImportFile, false, () => UploadAsync(client, tenant, file, $"load-{tenant.Slug}-{Guid.NewGuid():N}.csv"));
                var wait = TimeSpan.FromSeconds(settings.ImportIntervalSeconds) - Stopwatch.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, stop);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private static async Task<Imports.ImportResult> UploadAsync(Imports.ImportService.ImportServiceClient client, LoadTenant tenant, byte[] file, string name)
    {
        var options = new CallOptions(Credentials(tenant), DateTime.UtcNow.AddMinutes(2));
        var upload = await client.StartUploadAsync(new Imports.StartUploadRequest { Kind = Imports.DocumentKind.Invoices, FileName = name, Size = file.Length }, options);
        for (var offset = 0; offset < file.Length; offset += upload.MaxChunkBytes)
        {
            var length = Math.Min(upload.MaxChunkBytes, file.Length - offset);
            await client.UploadChunkAsync(new Imports.UploadChunkRequest { UploadId = upload.UploadId, Offset = offset, Data = ByteString.CopyFrom(file, offset, length) }, options);
        }

        using var complete = client.CompleteUpload(new Imports.CompleteUploadRequest { UploadId = upload.UploadId, Sha256 = Convert.ToHexStringLower(SHA256.HashData(file)) }, options);
        Imports.ImportResult? result = null;
        await foreach (var importEvent in complete.ResponseStream.ReadAllAsync())
        {
            result = importEvent.Result ?? result;
        }

        return result is { Outcome: Imports.ImportOutcome.Stored }
            ? result
            : throw new InvalidOperationException($"the import of {name} ended {result?.Outcome.ToString() ?? "without a result"}: {string.Join("; ", result?.Errors.Take(3).Select(error => error.Reason) ?? [])}");
    }

    /// <summary>E-mailed invoices at a steady rate, round robin over the busy tenants, one SMTP client per api process.</summary>
    private async Task MailAsync(List<LoadTenant> busyTenants, int run, int runs, CancellationToken stop)
    {
        if (busyTenants.Count == 0 || settings.EmailsPerSecond <= 0)
        {
            return;
        }

        var queues = busyTenants.Select(tenant => new Queue<Invoice>(Share(tenant.Emails, run, runs))).ToList();
        var perClient = settings.EmailsPerSecond / target.Smtp.Count;
        await Task.WhenAll(target.Smtp.Select(async (endpoint, client) =>
        {
            using var smtp = new SmtpClient();
            try
            {
                var connecting = Stopwatch.GetTimestamp();
                await smtp.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, SecureSocketOptions.None, stop);
                report($"SMTP client {client + 1} connected to {endpoint} in {Stopwatch.GetElapsedTime(connecting).TotalMilliseconds:0} ms; {queues.Sum(queue => queue.Count)} e-mails ready");
                var interval = TimeSpan.FromSeconds(1 / perClient);
                var next = Stopwatch.GetTimestamp();
                for (var message = client; !stop.IsCancellationRequested; message += target.Smtp.Count)
                {
                    var tenantIndex = message % busyTenants.Count;
                    Invoice? invoice;
                    lock (queues)
                    {
                        queues[tenantIndex].TryDequeue(out invoice);
                    }

                    if (invoice is null)
                    {
                        // The generated tenants have only so many POs with five received lines; the run goes on without e-mails.
                        report($"SMTP client {client + 1}: every generated e-mail invoice was sent; no more e-mails this run");
                        return;
                    }

                    var tenant = busyTenants[tenantIndex];
                    var measured = _recorder.Measuring;
                    var sent = await _recorder.CallAsync(SendEmail, false, async () =>
                    {
                        await smtp.SendAsync(MessageOf(invoice, $"{tenant.Slug}@{target.IntakeDomain}"), CancellationToken.None);
                        return "250";
                    });
                    if (sent is not null && measured)
                    {
                        _accepted[(tenant.Id, invoice.InvoiceNumber)] = Stopwatch.GetTimestamp();
                    }

                    next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, stop);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or MailKit.CommandException or MailKit.ProtocolException or InvalidOperationException)
            {
                _recorder.Fail(SendEmail, false, $"SMTP client {client + 1}: {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                if (smtp.IsConnected)
                {
                    await smtp.DisconnectAsync(quit: true, CancellationToken.None);
                }
            }
        }));
    }

    private static MimeMessage MessageOf(Invoice invoice, string to)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse($"ap@{LoadProvisioning.SenderDomain}"));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = $"Invoice {invoice.InvoiceNumber}";
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(LoadProvisioning.SenderDomain);
        message.Body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = $"Please find invoice {invoice.InvoiceNumber} attached." },
            new MimePart("application", "xml")
            {
                Content = new MimeContent(new MemoryStream(Encoding.UTF8.GetBytes(IntakeBenchmark.UblOf(invoice)))),
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                ContentTransferEncoding = ContentEncoding.Base64,
                FileName = $"{invoice.InvoiceNumber}.xml",
            },
        };
        return message;
    }

    /// <summary>Waits (at most 30 s) until every e-mail accepted while measuring has its invoice stored and seen decided.</summary>
    private async Task<IReadOnlyDictionary<(Guid Tenant, string Number), Guid>> WaitForDecisionsAsync(List<LoadTenant> busyTenants, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        IReadOnlyDictionary<(Guid Tenant, string Number), Guid> numbers;
        do
        {
            numbers = await observer.InvoiceIdsAsync(busyTenants.Select(tenant => tenant.Id).ToList(), _accepted.Keys.Select(key => key.Number).ToList(), cancellationToken);
            if (_accepted.Keys.All(key => numbers.TryGetValue(key, out var id) && _decided.ContainsKey((key.Tenant, id))))
            {
                break;
            }

            await Task.Delay(250, cancellationToken);
        }
        while (deadline.Elapsed < TimeSpan.FromSeconds(30));

        return numbers;
    }

    private async Task WaitForStreamsAsync(IReadOnlyDictionary<Guid, IReadOnlyList<Guid>> expected, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15)
               && _watchers.Any(watcher => expected.TryGetValue(watcher.Tenant.Id, out var ids) && ids.Any(id => !watcher.Seen.ContainsKey(id))))
        {
            await Task.Delay(250, cancellationToken);
        }
    }

    private ArrivalFigures Arrivals(IReadOnlyDictionary<(Guid Tenant, string Number), Guid> numbers)
    {
        var latencies = new List<double>();
        foreach (var ((tenant, number), accepted) in _accepted)
        {
            if (numbers.TryGetValue((tenant, number), out var id) && _decided.TryGetValue((tenant, id), out var decided))
            {
                latencies.Add(Stopwatch.GetElapsedTime(accepted, decided).TotalMilliseconds);
            }
        }

        latencies.Sort();
        return new ArrivalFigures(_accepted.Count, latencies);
    }

    private sealed class Watcher(LoadTenant tenant, int replica)
    {
        public LoadTenant Tenant { get; } = tenant;

        public int Replica { get; } = replica;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentDictionary<Guid, byte> Seen { get; } = new();
    }
}
