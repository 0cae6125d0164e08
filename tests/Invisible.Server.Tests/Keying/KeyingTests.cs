using System.Net;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Invisible.Contracts.Keying.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Ingestion;
using Invisible.Server.Intake;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Keying;

/// <summary>
/// The to-key queue of the running product: a printed-only PDF e-mailed by a vendor is keyed by a clerk over gRPC, stored as
/// an import of channel "keyed" and decided on arrival; its PDF is served only to its own tenant.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class KeyingTests(AccountsServer server) : IDisposable
{
    private const string Vendors = "vendor_code,name,tax_id,email,country,currency,payment_terms\nV1,Acme Supplies Ltd,GB123456789,ap@acme.example,GB,GBP,NET30\n";

    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);

    public void Dispose() => _channel.Dispose();

    [Fact]
    public async Task A_keyed_invoice_is_stored_as_a_keyed_import_linked_to_its_pdf_audited_and_decided_on_arrival()
    {
        var (queue, itemId) = await TenantWithItemAsync();
        var clerk = Client(await queue.TokenAsync(Roles.Clerk));
        var detail = await clerk.GetToKeyItemAsync(new GetToKeyItemRequest { ItemId = itemId });
        var po = await clerk.ListOpenPurchaseOrderLinesAsync(new ListOpenPurchaseOrderLinesRequest { PoNumber = "po-7" });

        var result = await clerk.SubmitKeyedInvoiceAsync(Keyed(itemId, "K-1", po.Lines.Select(l => (l.Sku, l.Description, l.Quantity, l.UnitPrice)).ToArray()));

        await QueueTenant.EventuallyAsync(async () => (await queue.InvoiceAsync("K-1")).Status == InvoiceStatus.Matched, "the keyed invoice K-1 is matched on arrival");
        var failures = new List<string>();
        var linked = await queue.QueryAsync<(string Source, Guid InvoiceId, string PdfBlob)>(
            "select i.source, k.invoice_id, k.pdf_blob from keyed_invoices k join imports i on i.id = k.import_id");
        if (linked is not [var link] || link.Source != "keyed" || link.InvoiceId.ToString() != result.InvoiceId || !link.PdfBlob.EndsWith(".pdf", StringComparison.Ordinal))
        {
            failures.Add($"expected one keyed import linked to invoice {result.InvoiceId} and its PDF: {string.Join("; ", linked)}");
        }

        if (await queue.QuerySingleAsync<int>("select count(*)::int from audit_log where action = 'keying.item.keyed' and after ->> 'invoiceId' = @id",
                new { id = result.InvoiceId }) != 1)
        {
            failures.Add("no audit entry keying.item.keyed for the invoice");
        }

        if (result.Item.State != "keyed" || string.IsNullOrEmpty(result.Item.KeyedBy) || (await clerk.ListToKeyItemsAsync(new ListToKeyItemsRequest())).TotalCount != 0)
        {
            failures.Add($"the item was not marked keyed and left the queue: {result.Item}");
        }

        if ((detail.Prefill.VendorName, detail.Prefill.Currency, po.Lines.Count) != ("Acme Supplies Ltd", "GBP", 2))
        {
            failures.Add($"prefill or PO lines: {detail.Prefill}, {po}");
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task A_keyed_invoice_that_does_not_add_up_is_refused_with_each_wrong_field_named_and_nothing_stored()
    {
        var (queue, itemId) = await TenantWithItemAsync();
        var clerk = Client(await queue.TokenAsync(Roles.Clerk));
        var request = Keyed(itemId, "K-2", ("P-A4", "Paper A4", "10", "10.00"));
        request.Lines[0].Amount = "99.00";
        request.InvoiceTotal = "120.00";
        request.InvoiceDate = "12.01.2026";

        var refused = await Assert.ThrowsAsync<RpcException>(() => clerk.SubmitKeyedInvoiceAsync(request).ResponseAsync);

        var fields = refused.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.Select(v => v.Field).Order().ToArray() ?? [];
        var stored = await queue.QuerySingleAsync<int>("select count(*)::int from invoices");
        Assert.Equal(
            (StatusCode.InvalidArgument, "invoice_date, invoice_total, lines[0].amount", 0),
            (refused.StatusCode, string.Join(", ", fields), stored));
    }

    [Fact]
    public async Task Another_tenant_can_neither_read_the_item_nor_fetch_its_pdf()
    {
        var (queue, itemId) = await TenantWithItemAsync();
        var other = await QueueTenant.CreateAsync(server);
        var otherToken = await other.TokenAsync(Roles.Admin);
        var ownDetail = await Client(await queue.TokenAsync(Roles.Clerk)).GetToKeyItemAsync(new GetToKeyItemRequest { ItemId = itemId });
        using var http = new HttpClient { BaseAddress = new Uri(server.Server.Endpoints.Http) };
        var failures = new List<string>();

        var read = await Assert.ThrowsAsync<RpcException>(() => Client(otherToken).GetToKeyItemAsync(new GetToKeyItemRequest { ItemId = itemId }).ResponseAsync);
        if (read.StatusCode != StatusCode.NotFound)
        {
            failures.Add($"GetToKeyItem by another tenant: {read.Status}");
        }

        var othersList = await Client(otherToken).ListToKeyItemsAsync(new ListToKeyItemsRequest());
        if (othersList.Items.Count != 0)
        {
            failures.Add($"another tenant lists: {othersList}");
        }

        using var withOthersToken = new HttpRequestMessage(HttpMethod.Get, $"/v1/keying/items/{itemId}/pdf");
        withOthersToken.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", otherToken);
        using var bearerOfOther = await http.SendAsync(withOthersToken);
        if (bearerOfOther.StatusCode != HttpStatusCode.NotFound)
        {
            failures.Add($"the PDF with another tenant's token: {bearerOfOther.StatusCode}");
        }

        using var anonymous = await http.GetAsync($"/v1/keying/items/{itemId}/pdf");
        using var forged = await http.GetAsync(ownDetail.PdfUrl.Replace("ticket=", "ticket=x", StringComparison.Ordinal));
        if (anonymous.StatusCode != HttpStatusCode.Unauthorized || forged.StatusCode != HttpStatusCode.Unauthorized)
        {
            failures.Add($"the PDF without or with a forged ticket: {anonymous.StatusCode}, {forged.StatusCode}");
        }

        using var own = await http.GetAsync(ownDetail.PdfUrl);
        var body = await own.Content.ReadAsByteArrayAsync();
        var csp = own.Headers.TryGetValues("Content-Security-Policy", out var values) ? string.Join(";", values) : "";
        if (own.StatusCode != HttpStatusCode.OK || own.Content.Headers.ContentType?.MediaType != "application/pdf" ||
            own.Content.Headers.ContentDisposition?.DispositionType != "inline" || !csp.Contains("frame-ancestors 'self'", StringComparison.Ordinal) ||
            !own.Headers.TryGetValues("X-Content-Type-Options", out var sniff) || sniff.Single() != "nosniff" ||
            !System.Text.Encoding.ASCII.GetString(body, 0, Math.Min(4, body.Length)).Equals("%PDF", StringComparison.Ordinal))
        {
            failures.Add($"the PDF with its own ticket: {own.StatusCode} {own.Content.Headers.ContentType} {own.Content.Headers.ContentDisposition} csp '{csp}'");
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task Keying_with_a_chosen_vendor_confirms_the_printed_name_as_its_alias_audited_and_a_later_invoice_printing_it_resolves_to_that_vendor()
    {
        var (queue, itemId) = await TenantWithItemAsync();
        var clerk = Client(await queue.TokenAsync(Roles.Clerk));
        var request = Keyed(itemId, "K-4", ("P-A4", "Paper A4", "10", "10.00"));
        request.VendorName = "Roadrunner Trading";
        request.VendorCode = "V1";

        var result = await clerk.SubmitKeyedInvoiceAsync(request);
        await queue.ImportAsync(DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\nL-1,Roadrunner Trading,2026-01-20,GBP,,1,P-A4,Paper A4,1,10.00,10.00,10.00\n");
        await queue.DecidedOnArrivalAsync();

        var failures = new List<string>();
        var clerkId = await queue.UserIdAsync(Roles.Clerk);
        var aliases = await queue.QueryAsync<(string Value, string Source, string Decision, string CreatedBy, string VendorCode, Guid InvoiceId)>(
            """
            select a.value, a.source, a.decision, a.created_by, v.vendor_code, a.invoice_id from vendor_aliases a join vendors v on v.id = a.vendor_id
            where a.source = 'reviewer'
            """);
        if (aliases is not [var alias] || alias != ("Roadrunner Trading", "reviewer", "keyed_invoice", $"user:{clerkId}", "V1", Guid.Parse(result.InvoiceId)))
        {
            failures.Add($"expected one confirmed alias from the keyed invoice: {string.Join("; ", aliases)}");
        }

        if (await queue.QuerySingleAsync<int>(
                "select count(*)::int from audit_log where action = 'vendors.alias_confirmed' and entity_id = 'V1' and after->>'decision' = 'keyed_invoice'") != 1)
        {
            failures.Add("no audit entry vendors.alias_confirmed of decision keyed_invoice");
        }

        var (keyedVendor, laterVendor) = ((await queue.InvoiceAsync("K-4")).VendorCode, (await queue.InvoiceAsync("L-1")).VendorCode);
        if ((keyedVendor, laterVendor) != ("V1", "V1"))
        {
            failures.Add($"vendors of the keyed and the later invoice: '{keyedVendor}', '{laterVendor}'");
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task Keying_with_a_vendor_code_the_tenant_does_not_have_is_refused_on_that_field_and_nothing_stored()
    {
        var (queue, itemId) = await TenantWithItemAsync();
        var clerk = Client(await queue.TokenAsync(Roles.Clerk));
        var request = Keyed(itemId, "K-5", ("P-A4", "Paper A4", "10", "10.00"));
        request.VendorCode = "NOPE";

        var refused = await Assert.ThrowsAsync<RpcException>(() => clerk.SubmitKeyedInvoiceAsync(request).ResponseAsync);

        var fields = refused.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.Select(v => v.Field).ToArray() ?? [];
        var stored = await queue.QuerySingleAsync<int>("select count(*)::int from invoices");
        var aliases = await queue.QuerySingleAsync<int>("select count(*)::int from vendor_aliases where source = 'reviewer'");
        Assert.Equal((StatusCode.InvalidArgument, "vendor_code", 0, 0), (refused.StatusCode, string.Join(", ", fields), stored, aliases));
    }

    [Fact]
    public async Task A_discarded_item_leaves_the_queue_is_audited_and_can_no_longer_be_keyed()
    {
        var (queue, itemId) = await TenantWithItemAsync();
        var clerk = Client(await queue.TokenAsync(Roles.Clerk));

        var discarded = await clerk.DiscardToKeyItemAsync(new DiscardToKeyItemRequest { ItemId = itemId, Reason = "a delivery note, not an invoice" });

        var keying = await Assert.ThrowsAsync<RpcException>(() => clerk.SubmitKeyedInvoiceAsync(Keyed(itemId, "K-3", ("P-A4", "Paper A4", "10", "10.00"))).ResponseAsync);
        var remaining = (await clerk.ListToKeyItemsAsync(new ListToKeyItemsRequest())).TotalCount;
        var audited = await queue.QuerySingleAsync<int>("select count(*)::int from audit_log where action = 'keying.item.discarded'");
        Assert.Equal(("discarded", StatusCode.FailedPrecondition, 0, 1), (discarded.State, keying.StatusCode, remaining, audited));
    }

    private KeyingService.KeyingServiceClient Client(string token) =>
        new(_channel.CreateCallInvoker().Intercept(metadata =>
        {
            metadata.Add("authorization", $"Bearer {token}");
            return metadata;
        }));

    private static SubmitKeyedInvoiceRequest Keyed(string itemId, string number, params (string Sku, string Description, string Quantity, string UnitPrice)[] lines)
    {
        var request = new SubmitKeyedInvoiceRequest
        {
            ItemId = itemId, VendorName = "Acme Supplies", InvoiceNumber = number, InvoiceDate = "2026-01-12", DueDate = "2026-02-11", Currency = "GBP", PoNumber = "PO-7",
        };
        foreach (var (sku, description, quantity, unitPrice) in lines)
        {
            var amount = decimal.Round(decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture) * decimal.Parse(unitPrice, System.Globalization.CultureInfo.InvariantCulture), 2, MidpointRounding.AwayFromZero);
            request.Lines.Add(new KeyedLine { Sku = sku, Description = description, Quantity = quantity, UnitPrice = unitPrice, Amount = amount.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) });
        }

        request.InvoiceTotal = request.Lines.Sum(l => decimal.Parse(l.Amount, System.Globalization.CultureInfo.InvariantCulture)).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
        return request;
    }

    /// <summary>A tenant with a vendor known by e-mail, an open PO with receipts, and one printed-only PDF from that vendor to key.</summary>
    private async Task<(QueueTenant Queue, string ItemId)> TenantWithItemAsync()
    {
        var queue = await QueueTenant.CreateAsync(server, Vendors);
        await queue.ImportAsync(DocumentKind.PurchaseOrders,
            $"{QueueTenant.PoHeader}\nPO-7,V1,2026-01-05,GBP,1,P-A4,Paper A4,10,10.00\nPO-7,V1,2026-01-05,GBP,2,T-26A,Toner 26A,4,80.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-7,1,2026-01-10,10\nGR-1,PO-7,2,2026-01-10,4\n");
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("ap@acme.example"));
        message.To.Add(MailboxAddress.Parse($"{queue.Tenant.Slug}@invoices.localhost"));
        message.Subject = "Invoice (scan)";
        var body = new BodyBuilder { TextBody = "Our invoice is attached." };
        body.Attachments.Add("scan.pdf", PrintedOnlyPdf(), new ContentType("application", "pdf"));
        message.Body = body.ToMessageBody();
        using var raw = new MemoryStream();
        await message.WriteToAsync(raw);
        var received = await server.Server.Services.GetRequiredService<EmailIntake>().ReceiveAsync(queue.Tenant.Id, raw.ToArray(), IntakeSource.Smtp, CancellationToken.None);
        var attachment = Assert.Single(received.Attachments, a => a.Outcome == AttachmentOutcome.ToKey);
        return (queue, $"{received.MessageId:N}-{attachment.Ordinal}");
    }

    private static byte[] PrintedOnlyPdf()
    {
        var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        var font = builder.AddStandard14Font(UglyToad.PdfPig.Fonts.Standard14Fonts.Standard14Font.Helvetica);
        builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4).AddText("Invoice K-1 to Acme's customer, printed only", 12, new UglyToad.PdfPig.Core.PdfPoint(50, 700), font);
        return builder.Build();
    }
}
