using Invisible.Testing;
using System.Text;
using LinqToDB.Data;
using Google.Protobuf;
using Invisible.Contracts.Exceptions.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Server.Imports;
using Invisible.Server.Tests.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.Exceptions;

/// <summary>A tenant of the running product with its people signed in once, for the queue and tolerance scenarios.</summary>
internal sealed class QueueTenant
{
    public const string InvoiceHeader = "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total";
    public const string PoHeader = "po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price";
    public const string ReceiptHeader = "receipt_number,po_number,po_line_no,received_date,quantity_received";

    private readonly AccountsServer _server;
    private readonly Dictionary<string, (TestUser User, string Token)> _people = new(StringComparer.Ordinal);

    private QueueTenant(AccountsServer server, TestTenant tenant) => (_server, Tenant) = (server, tenant);

    public TestTenant Tenant { get; }

    public static async Task<QueueTenant> CreateAsync(AccountsServer server, string vendors = "vendor_code,name\nV1,Acme Supplies Ltd\n")
    {
        var queue = new QueueTenant(server, await server.NewTenantAsync());
        await queue.ImportAsync(DocumentKind.Vendors, vendors);
        return queue;
    }

    public async Task<string> TokenAsync(string role)
    {
        if (!_people.TryGetValue(role, out var person))
        {
            var user = role == Identity.Roles.Admin ? Tenant.Admin : await Tenant.AddUserAsync(role);
            _people[role] = person = (user, (await Tenant.FullSessionAsync(user)).AccessToken);
        }

        return person.Token;
    }

    public async Task<Guid> UserIdAsync(string role)
    {
        await TokenAsync(role);
        return await QuerySingleAsync<Guid>("select id from users where email_index = @email", new { email = Tenant.EmailIndexOf(_people[role].User.Email) });
    }

    /// <summary>One more person of <paramref name="role"/>, besides the one <see cref="TokenAsync"/> signs in: for rules that need two of a kind.</summary>
    public async Task<(Guid Id, string Token)> AnotherPersonAsync(string role)
    {
        var user = await Tenant.AddUserAsync(role);
        var token = (await Tenant.FullSessionAsync(user)).AccessToken;
        return (await QuerySingleAsync<Guid>("select id from users where email_index = @email", new { email = Tenant.EmailIndexOf(user.Email) }), token);
    }

    public async Task<RpcReply> ApprovalsAsync(string method, IMessage request, string role = Identity.Roles.Admin) =>
        await Tenant.CallAsync(ApprovalsReflection.Descriptor.Services[0].FindMethodByName(method), request, await TokenAsync(role));

    /// <param name="actor">Who the import record names as its uploader (a user's id as text for the four-eyes rule).</param>
    public async Task ImportAsync(DocumentKind kind, string content, string actor = "tester")
    {
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        var outcome = await _server.Server.Services.GetRequiredService<ImportService>().ImportAsync(
            Tenant.Id, new ImportRequest(kind, $"{kind}-{Guid.NewGuid():N}.csv", ImportSource.Cli, actor, null), stream, new ImportOptions(), null,
            CancellationToken.None);
        Assert.True(outcome.Kind == ImportOutcomeKind.Stored, string.Join('\n', outcome.Parse.Errors));
    }

    public async Task<RpcReply> MatchingAsync(string method, IMessage request, string role = Identity.Roles.Admin) =>
        await Tenant.CallAsync(MatchingReflection.Descriptor.Services[0].FindMethodByName(method), request, await TokenAsync(role));

    public async Task<RpcReply> ExceptionsAsync(string method, IMessage request, string role = Identity.Roles.Admin) =>
        await Tenant.CallAsync(ExceptionsReflection.Descriptor.Services[0].FindMethodByName(method), request, await TokenAsync(role));

    /// <summary>Waits until every invoice of the tenant has a decision: the outbox's subscriber decides invoices on arrival.</summary>
    public Task DecidedOnArrivalAsync() => EventuallyAsync(
        async () => await QuerySingleAsync<int>(
            "select count(*)::int from invoices i where not exists (select 1 from match_decisions d where d.invoice_id = i.id)") == 0,
        "every invoice is decided on arrival");

    public async Task<ReconcileResponse> ReconcileAsync() => (await MatchingAsync("Reconcile", new ReconcileRequest())).As<ReconcileResponse>();

    public async Task<InvoiceSummary> InvoiceAsync(string invoiceNumber) =>
        (await MatchingAsync("ListInvoices", new ListInvoicesRequest { Query = invoiceNumber })).As<ListInvoicesResponse>()
        .Invoices.Single(invoice => invoice.InvoiceNumber == invoiceNumber);

    public async Task<ExceptionItem> OpenExceptionOfAsync(string invoiceNumber) =>
        (await ExceptionsAsync("ListExceptions", new ListExceptionsRequest())).As<ListExceptionsResponse>()
        .Items.Single(item => item.Invoice.InvoiceNumber == invoiceNumber);

    /// <summary>The invoice's decisions, oldest first, as stored (append-only).</summary>
    public async Task<List<(string Status, string DecidedBy)>> DecisionsAsync(string invoiceNumber) =>
        (await QueryAsync<(string, string)>(
            """
            select d.invoice_status, d.decided_by from match_decisions d join invoices i on i.id = d.invoice_id
            where i.invoice_number = @invoiceNumber order by d.decided_at, d.id
            """, new { invoiceNumber })).ToList();

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var unitOfWork = await Tenant.Database.BeginAsync(Tenant.Id, CancellationToken.None);
        return await unitOfWork.Db.RowsAsync<T>(sql, parameters);
    }

    public async Task<T> QuerySingleAsync<T>(string sql, object? parameters = null) => (await QueryAsync<T>(sql, parameters)).Single();

    /// <summary>Waits for something the product does in the background (the outbox dispatcher and its subscribers).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Within 30 s: {what}");
            }

            await Task.Delay(50);
        }
    }
}
