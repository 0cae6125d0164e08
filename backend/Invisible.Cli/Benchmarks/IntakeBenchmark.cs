using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Contracts.Events.V1;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Identity;
using Invisible.Ingestion;
using Invisible.Reconciliation.Documents;
using Invisible.SampleData;
using Invisible.Server.Accounts;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Invisible.Server.Intake;
using Invisible.Server.Matching;
using Invisible.Server.Security;
using Invisible.Server.Tenancy;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// Invisible by default, end to end: the product runs as <c>invisible up</c> runs it (embedded PostgreSQL, SMTP listener,
/// outbox worker, gRPC); 4 SMTP clients send messages each carrying a 5-line UBL invoice for lines of a PO whose goods were
/// received, while 2 other tenants import CSV files; measured per message from the server's 250 at the end of DATA to its
/// invoice's decision arriving on an <c>EventService.Watch</c> stream opened before the first message. Baseline, same run
/// and server: the same invoices as one CSV imported through the CLI's import path and reconciled.
/// </summary>
internal sealed class IntakeBenchmark : IBenchmark
{
    public const int DefaultMessages = 200;
    private const int Seed = 20261208;
    private const int SmtpClients = 4;
    private const string SenderDomain = "supplier.bench.example";
    private static readonly XNamespace Ubl = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
    private static readonly XNamespace Cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
    private static readonly XNamespace Cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

    public string Name => "intake";

    public string Description =>
        $"{DefaultMessages} e-mails (one 5-line UBL invoice each) from {SmtpClients} SMTP clients while 2 tenants import CSV: SMTP 250 → decision on Watch, against CLI import + reconcile";

    public async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        var messageCount = context.Messages ?? DefaultMessages;
        context.Report("generating master data and invoices");
        var generated = new TenantDataGenerator(Seed).Generate(new GeneratorOptions { Invoices = Math.Max(1_000, messageCount * 10), PartialReceiptRate = 0, NotYetReceivedRate = 0 }).Snapshot;
        var master = generated with { Invoices = [] };
        var invoices = ArrivalBenchmark.FiveLineInvoices(generated).Take(messageCount).ToList();
        if (invoices.Count < messageCount)
        {
            throw new InvalidOperationException($"The generated data has POs for only {invoices.Count} five-line invoices.");
        }

        var dataDirectory = Path.Combine(context.WorkDirectory, "product");
        context.Report("starting the product (embedded PostgreSQL, SMTP listener, worker, gRPC)");
        await using var server = await InvisibleServer.StartAsync(
            [
                $"--Server:DataDirectory={dataDirectory}", "--Server:HttpPort=0", "--Server:GrpcPort=0", "--Email:Intake:Port=0",
                "--Email:Intake:MessagesPerMinutePerIp=100000", "--Email:Intake:Imap:Enabled=false",
                "--RateLimits:CallerRequestsPerSecond=1000000", "--RateLimits:CallerBurst=1000000",
                "--RateLimits:TenantRequestsPerSecond=1000000", "--RateLimits:TenantBurst=1000000", "--RateLimits:WatchStreamsPerCaller=1000",
            ],
            configure: null, context.Logging, cancellationToken);
        var smtp = server.Services.GetRequiredService<SmtpIntakeListener>().BoundEndpoint
            ?? throw new InvalidOperationException("The SMTP listener did not start.");
        var imports = server.Services.GetRequiredService<ImportService>();
        var tenants = server.Services.GetRequiredService<TenantDatabase>();

        var intakeTenant = await CreateTenantAsync(server, "bench-intake", cancellationToken);
        await ImportFilesAsync(imports, context, intakeTenant, master, "master", [DocumentKind.Vendors, DocumentKind.PurchaseOrders, DocumentKind.Receipts], cancellationToken);
        await server.Services.GetRequiredService<IntakeQueries>()
            .AddAllowlistEntryAsync(intakeTenant, "@" + SenderDomain, "benchmark", null, cancellationToken);
        var baselineTenant = await CreateTenantAsync(server, "bench-intake-cli", cancellationToken);
        await ImportFilesAsync(imports, context, baselineTenant, master, "baseline-master", [DocumentKind.Vendors, DocumentKind.PurchaseOrders, DocumentKind.Receipts], cancellationToken);
        var busyTenants = new List<(Guid Id, TenantSnapshot Data)>();
        for (var i = 1; i <= 2; i++)
        {
            var data = new TenantDataGenerator(Seed + i).Generate(new GeneratorOptions { Invoices = 2_000 }).Snapshot;
            var id = await CreateTenantAsync(server, $"bench-intake-busy-{i}", cancellationToken);
            await ImportFilesAsync(imports, context, id, data with { Invoices = [] }, $"busy-{i}-master", [DocumentKind.Vendors, DocumentKind.PurchaseOrders, DocumentKind.Receipts], cancellationToken);
            busyTenants.Add((id, data));
        }

        var (_, apiKey) = await LocalOperator.CreateApiKeyAsync(server.Services, "bench-intake", "bench intake watch", Roles.Auditor, null, cancellationToken);
        using var channel = GrpcChannel.ForAddress(server.Endpoints.Grpc);
        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var decidedAt = new ConcurrentDictionary<Guid, long>();
        var watching = new TaskCompletionSource();
        var watch = WatchAsync(channel, apiKey, decidedAt, watching, stopWatching.Token);
        await watching.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

        context.Report($"sending {messageCount} messages from {SmtpClients} SMTP clients while 2 tenants import CSV files");
        using var stopBusy = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var busy = busyTenants.Select((tenant, index) => KeepImportingAsync(imports, context, tenant.Id, tenant.Data, index, stopBusy.Token)).ToList();
        var sent = new ConcurrentDictionary<string, (long Sending, long Accepted)>();
        var address = $"bench-intake@{server.Services.GetRequiredService<IntakeRecipients>().Domain}";
        var sending = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, SmtpClients).Select(client => SendAsync(smtp, address, invoices.Where((_, i) => i % SmtpClients == client).ToList(), sent, cancellationToken)));
        var sendSeconds = sending.Elapsed.TotalSeconds;

        var numbers = await WaitForDecisionsAsync(tenants, intakeTenant, invoices, decidedAt, cancellationToken);
        await stopBusy.CancelAsync();
        var busyImports = (await Task.WhenAll(busy)).Sum();
        await stopWatching.CancelAsync();
        await watch;

        var fromAccepted = new List<double>();
        var fromSending = new List<double>();
        foreach (var invoice in invoices)
        {
            if (numbers.TryGetValue(invoice.InvoiceNumber, out var invoiceId) && decidedAt.TryGetValue(invoiceId, out var decided) && sent.TryGetValue(invoice.InvoiceNumber, out var times))
            {
                fromAccepted.Add(Stopwatch.GetElapsedTime(times.Accepted, decided).TotalMilliseconds);
                fromSending.Add(Stopwatch.GetElapsedTime(times.Sending, decided).TotalMilliseconds);
            }
        }

        if (fromAccepted.Count < invoices.Count)
        {
            context.Report($"only {fromAccepted.Count} of {invoices.Count} invoices were seen decided on the Watch stream");
        }

        var matched = await MatchedCountAsync(tenants, intakeTenant, cancellationToken);
        context.Report($"{busyImports} CSV files imported by the 2 other tenants meanwhile; {matched} of {invoices.Count} e-mailed invoices matched; sending took {sendSeconds:0.0} s");

        context.Report("baseline: the same invoices as one CSV through the CLI's import path, then reconcile");
        var baselineMs = await MeasureCliAsync(imports, server, context, baselineTenant, master with { Invoices = invoices }, cancellationToken);
        var perInvoice = baselineMs / invoices.Count;
        var load = LoadAverage();
        context.Report($"load average at the end: {load}");

        var p99 = Percentile(fromAccepted, 0.99);
        return
        [
            new($"e-mail (SMTP 250) → decision on Watch, p50 ({fromAccepted.Count} of {invoices.Count} messages)", Percentile(fromAccepted, 0.5), "ms", perInvoice),
            new("e-mail (SMTP 250) → decision on Watch, p95", Percentile(fromAccepted, 0.95), "ms", perInvoice),
            new("e-mail (SMTP 250) → decision on Watch, p99", p99, "ms", perInvoice, "< 1,000 ms", p99 < 1_000 && fromAccepted.Count == invoices.Count),
            new("e-mail (SMTP 250) → decision on Watch, max", fromAccepted.DefaultIfEmpty(double.NaN).Max(), "ms", perInvoice),
            new("  same from the start of the SMTP transaction, p50", Percentile(fromSending, 0.5), "ms", perInvoice),
            new("  same from the start of the SMTP transaction, p99", Percentile(fromSending, 0.99), "ms", perInvoice),
            new($"baseline: CLI import of {invoices.Count} invoices + reconcile, total", baselineMs, "ms"),
            new("messages accepted per second (4 clients)", invoices.Count / sendSeconds, "msg/s"),
            new($"CSV files imported by 2 other tenants meanwhile (load average {load})", busyImports, "files"),
        ];
    }

    private static async Task<Guid> CreateTenantAsync(InvisibleServer server, string slug, CancellationToken cancellationToken)
    {
        await ActivatorUtilities.CreateInstance<TenantOnboarding>(server.Services)
            .CreateAsync(slug, "Intake benchmark", "USD", $"admin@{slug}.invisible.local", TenantOnboarding.OperatorActor, cancellationToken);
        return (await server.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(slug, cancellationToken))!.Id;
    }

    private static async Task ImportFilesAsync(
        ImportService imports, BenchmarkContext context, Guid tenantId, TenantSnapshot snapshot, string label, DocumentKind[] kinds, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(context.WorkDirectory, label);
        await CanonicalCsvWriter.WriteAsync(new GeneratedTenant(snapshot, []), directory, cancellationToken);
        foreach (var kind in kinds)
        {
            var name = kind switch
            {
                DocumentKind.Vendors => "vendors.csv",
                DocumentKind.PurchaseOrders => "purchase_orders.csv",
                DocumentKind.Receipts => "receipts.csv",
                _ => "invoices.csv",
            };
            await using var content = File.OpenRead(Path.Combine(directory, name));
            var outcome = await imports.ImportAsync(
                tenantId, new ImportRequest(kind, $"{label}-{name}", ImportSource.Cli, "benchmark", RequestId: null), content, ImportOptions.Default, null, cancellationToken);
            if (outcome.Kind != ImportOutcomeKind.Stored)
            {
                throw new InvalidOperationException($"{label}/{name} was not stored: {outcome.Kind}");
            }
        }
    }

    /// <summary>Imports the tenant's invoices 100 at a time, one file after another, until stopped; returns how many files.</summary>
    private static async Task<int> KeepImportingAsync(
        ImportService imports, BenchmarkContext context, Guid tenantId, TenantSnapshot data, int index, CancellationToken stop)
    {
        var files = 0;
        var chunks = data.Invoices.DistinctBy(invoice => (invoice.PrintedVendorName, invoice.InvoiceNumber)).Chunk(100).ToList();
        try
        {
            foreach (var chunk in chunks)
            {
                stop.ThrowIfCancellationRequested();
                try
                {
                    await ImportFilesAsync(imports, context, tenantId, data with { Invoices = chunk }, $"busy-{index}-{files}", [DocumentKind.Invoices], stop);
                    files++;
                }
                catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.DeadlockDetected)
                {
                    // Seen under load: an import and the worker's decision on arrival of the same tenant deadlock (reported
                    // on issue #21). The background load goes on; the failure is counted, not hidden.
                    context.Report($"busy tenant {index + 1}: an import was chosen as a deadlock victim: {e.MessageText}");
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return files;
    }

    private static async Task WatchAsync(GrpcChannel channel, string apiKey, ConcurrentDictionary<Guid, long> decidedAt, TaskCompletionSource watching, CancellationToken stop)
    {
        var client = new EventService.EventServiceClient(channel);
        using var call = client.Watch(new WatchRequest { Topics = { "exceptions.changed" } }, new Metadata { { CallerAuthentication.ApiKeyHeader, apiKey } }, cancellationToken: stop);
        try
        {
            await foreach (var watchEvent in call.ResponseStream.ReadAllAsync(stop))
            {
                var now = Stopwatch.GetTimestamp();
                if (watchEvent.Topic == "watch.started")
                {
                    watching.TrySetResult();
                    continue;
                }

                using var payload = JsonDocument.Parse(watchEvent.PayloadJson);
                if (payload.RootElement.EnumerateObject().FirstOrDefault(p => p.Name.Equals("invoiceIds", StringComparison.OrdinalIgnoreCase)).Value is
                    { ValueKind: JsonValueKind.Array } ids)
                {
                    foreach (var id in ids.EnumerateArray())
                    {
                        decidedAt.TryAdd(id.GetGuid(), now);
                    }
                }
            }
        }
        catch (Exception e) when (stop.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
        }
        finally
        {
            watching.TrySetResult();
        }
    }

    private static async Task SendAsync(
        System.Net.IPEndPoint smtp, string to, IReadOnlyList<Invoice> invoices, ConcurrentDictionary<string, (long, long)> sent, CancellationToken cancellationToken)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync(smtp.Address.ToString(), smtp.Port, SecureSocketOptions.None, cancellationToken);
        foreach (var invoice in invoices)
        {
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse($"ap@{SenderDomain}"));
            message.To.Add(MailboxAddress.Parse(to));
            message.Subject = $"Invoice {invoice.InvoiceNumber}";
            message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(SenderDomain);
            message.Body = new Multipart("mixed")
            {
                new TextPart("plain") { Text = $"Please find invoice {invoice.InvoiceNumber} attached." },
                new MimePart("application", "xml")
                {
                    Content = new MimeContent(new MemoryStream(Encoding.UTF8.GetBytes(UblOf(invoice)))),
                    ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                    ContentTransferEncoding = ContentEncoding.Base64,
                    FileName = $"{invoice.InvoiceNumber}.xml",
                },
            };
            var sending = Stopwatch.GetTimestamp();
            await client.SendAsync(message, cancellationToken);
            sent[invoice.InvoiceNumber] = (sending, Stopwatch.GetTimestamp());
        }

        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    /// <summary>A UBL 2.1 invoice as a supplier's system writes it (no tax, so its total is the sum of its lines).</summary>
    internal static string UblOf(Invoice invoice)
    {
        static string Amount(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);
        var currency = new XAttribute("currencyID", invoice.Currency);
        var total = invoice.Lines.Sum(line => line.LineAmount);
        var document = new XElement(Ubl + "Invoice",
            new XAttribute(XNamespace.Xmlns + "cac", Cac), new XAttribute(XNamespace.Xmlns + "cbc", Cbc),
            new XElement(Cbc + "CustomizationID", "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"),
            new XElement(Cbc + "ID", invoice.InvoiceNumber),
            new XElement(Cbc + "IssueDate", invoice.InvoiceDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            new XElement(Cbc + "InvoiceTypeCode", "380"),
            new XElement(Cbc + "DocumentCurrencyCode", invoice.Currency),
            invoice.PrintedPoReference is { } po ? new XElement(Cac + "OrderReference", new XElement(Cbc + "ID", po)) : null,
            new XElement(Cac + "AccountingSupplierParty", new XElement(Cac + "Party",
                new XElement(Cac + "PartyName", new XElement(Cbc + "Name", invoice.PrintedVendorName)),
                invoice.PrintedTaxId is { } taxId
                    ? new XElement(Cac + "PartyTaxScheme", new XElement(Cbc + "CompanyID", taxId), new XElement(Cac + "TaxScheme", new XElement(Cbc + "ID", "VAT")))
                    : null)),
            new XElement(Cac + "LegalMonetaryTotal",
                new XElement(Cbc + "LineExtensionAmount", currency, Amount(total)),
                new XElement(Cbc + "TaxExclusiveAmount", new XAttribute(currency), Amount(total)),
                new XElement(Cbc + "TaxInclusiveAmount", new XAttribute(currency), Amount(total)),
                new XElement(Cbc + "PayableAmount", new XAttribute(currency), Amount(total))),
            invoice.Lines.Select(line => new XElement(Cac + "InvoiceLine",
                new XElement(Cbc + "ID", line.LineNo.ToString(CultureInfo.InvariantCulture)),
                new XElement(Cbc + "InvoicedQuantity", new XAttribute("unitCode", "EA"), line.Quantity.ToString(CultureInfo.InvariantCulture)),
                new XElement(Cbc + "LineExtensionAmount", new XAttribute(currency), Amount(line.LineAmount)),
                new XElement(Cac + "Item",
                    new XElement(Cbc + "Name", line.Description),
                    line.Sku is { } sku ? new XElement(Cac + "SellersItemIdentification", new XElement(Cbc + "ID", sku)) : null),
                new XElement(Cac + "Price", new XElement(Cbc + "PriceAmount", new XAttribute(currency), Amount(line.UnitPrice))))));
        // Indented, as suppliers' systems mostly write it: the readers take a line's source line from the XML line it sits on,
        // and a minified document (all on line 1) is refused today by invoice_lines' source_line check (reported on issue #21).
        return new XDocument(new XDeclaration("1.0", "UTF-8", null), document).ToString();
    }

    /// <summary>Waits until every e-mailed invoice is stored and seen decided (or a minute passes); returns invoice number → id.</summary>
    private static async Task<Dictionary<string, Guid>> WaitForDecisionsAsync(
        TenantDatabase tenants, Guid tenantId, IReadOnlyList<Invoice> invoices, ConcurrentDictionary<Guid, long> decidedAt, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        Dictionary<string, Guid> numbers;
        do
        {
            await Task.Delay(200, cancellationToken);
            await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
            numbers = (await unitOfWork.Db.GetTable<BenchInvoiceRow>().ToListAsync(cancellationToken))
                .GroupBy(row => row.InvoiceNumber, StringComparer.Ordinal).ToDictionary(group => group.Key, group => group.First().Id, StringComparer.Ordinal);
        }
        while (deadline.Elapsed < TimeSpan.FromMinutes(1) && invoices.Any(invoice => !numbers.TryGetValue(invoice.InvoiceNumber, out var id) || !decidedAt.ContainsKey(id)));

        return numbers;
    }

    private static async Task<int> MatchedCountAsync(TenantDatabase tenants, Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await unitOfWork.Db.GetTable<BenchInvoiceRow>().CountAsync(row => row.Status == "matched", cancellationToken);
    }

    private static async Task<double> MeasureCliAsync(
        ImportService imports, InvisibleServer server, BenchmarkContext context, Guid tenantId, TenantSnapshot invoices, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(context.WorkDirectory, "baseline-invoices");
        await CanonicalCsvWriter.WriteAsync(new GeneratedTenant(invoices, []), directory, cancellationToken);
        var start = Stopwatch.GetTimestamp();
        await using (var content = File.OpenRead(Path.Combine(directory, "invoices.csv")))
        {
            var outcome = await imports.ImportAsync(
                tenantId, new ImportRequest(DocumentKind.Invoices, "baseline-invoices.csv", ImportSource.Cli, "benchmark", RequestId: null), content, ImportOptions.Default, null, cancellationToken);
            if (outcome.Kind != ImportOutcomeKind.Stored)
            {
                throw new InvalidOperationException($"The baseline invoices were not stored: {outcome.Kind}");
            }
        }

        await server.Services.GetRequiredService<InvoiceMatching>().ReconcileAsync(tenantId, "benchmark", null, null, cancellationToken);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static double Percentile(List<double> values, double fraction)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Max(0, (int)Math.Ceiling(fraction * sorted.Count) - 1)];
    }

    [Table("invoices")]
    private sealed class BenchInvoiceRow
    {
        [Column("id")] public Guid Id { get; set; }
        [Column("invoice_number")] public string InvoiceNumber { get; set; } = "";
        [Column("status")] public string Status { get; set; } = "";
    }
}
