using Grpc.Core;
using Invisible.Contracts.Exceptions.V1;
using Invisible.Contracts.Vendors.V1;
using Invisible.Ingestion;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;
using Invisible.Server.Vendors;
using Microsoft.Extensions.DependencyInjection;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Vendors;

/// <summary>
/// Merging duplicate vendors into a survivor and undoing it, over real gRPC on documents imported and decided by the
/// product: the merge moves names, documents and exceptions and re-decides; the unmerge restores every row it changed.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class VendorMergeTests(AccountsServer server)
{
    private const string Vendors =
        "vendor_code,name,tax_id\nV1,Acme Supplies Ltd,GB123456789\nV2,ACME Supplies Limited Amsterdam,GB 123 456 789\nV3,Bluewater Hardware Ltd,\n";

    // Decision history (match_decisions, line_decisions), the audit log and the outbox are append-only and grow; rows of
    // every other table a merge touches are compared whole, but for the time of the last update and the pointer of an open
    // exception to its invoice's newest decision.
    private static readonly (string Table, string Row)[] AffectedTables =
    [
        ("vendors", "to_jsonb(t) - 'updated_at'"),
        ("vendor_aliases", "to_jsonb(t)"),
        ("purchase_orders", "to_jsonb(t)"),
        ("invoices", "to_jsonb(t) - 'updated_at'"),
        ("exceptions", "to_jsonb(t) - 'updated_at' - 'match_decision_id'"),
    ];

    private static Google.Protobuf.Reflection.MethodDescriptor Method(string name) => VendorsReflection.Descriptor.Services[0].FindMethodByName(name);

    [Fact]
    public async Task A_merge_moves_the_merged_vendors_names_documents_and_exceptions_to_the_survivor()
    {
        var queue = await DuplicatedVendorsAsync();

        var merge = await MergeAsync(queue, "V1", "V2");

        var survivor = (await VendorCallAsync(queue, "GetVendor", new GetVendorRequest { VendorCode = "V1" })).As<VendorDetail>();
        var merged = (await VendorCallAsync(queue, "GetVendor", new GetVendorRequest { VendorCode = "V2" })).As<VendorDetail>();
        var list = (await VendorCallAsync(queue, "ListVendors", new ListVendorsRequest())).As<ListVendorsResponse>();
        Assert.Equal(
            (2, 1, "V1", "V1", "V1", true, true, "V1", "V1,V3"),
            (merge.MovedInvoices, merge.MovedPurchaseOrders, (await queue.InvoiceAsync("I-2")).VendorCode, (await queue.InvoiceAsync("I-3")).VendorCode,
                await queue.QuerySingleAsync<string>("select v.vendor_code from purchase_orders p join vendors v on v.id = p.vendor_id where p.po_number = 'PO-2'"),
                survivor.Aliases.Any(alias => alias is { Value: "ACME Supplies Limited Amsterdam", Decision: "merge" }),
                survivor.Aliases.Any(alias => alias is { Value: "Acme Sup. Nederland", Decision: "operator" }),
                merged.Vendor.MergedIntoCode, string.Join(',', list.Vendors.Select(vendor => vendor.VendorCode))));
    }

    [Fact]
    public async Task Merge_then_unmerge_leaves_every_affected_row_as_it_was()
    {
        var queue = await DuplicatedVendorsAsync();
        var before = await SnapshotAsync(queue);

        var merge = await MergeAsync(queue, "V1", "V2");
        var merged = await SnapshotAsync(queue);
        var unmerged = (await VendorCallAsync(queue, "UnmergeVendor", new UnmergeVendorRequest { MergeId = merge.MergeId })).As<VendorMerge>();
        var after = await SnapshotAsync(queue);

        var differences = new List<string>();
        if (Differences(before, merged).Count == 0)
        {
            differences.Add("the merge changed nothing, so the comparison proves nothing");
        }

        differences.AddRange(Differences(before, after));
        var reopened = await queue.QueryAsync<string>(
            "select id::text from exceptions where status in ('open', 'in_review') and id <> all(@known)",
            new { known = before["exceptions"].Keys.Select(Guid.Parse).ToArray() });
        differences.AddRange(reopened.Select(id => $"exceptions {id}: opened by the merge and still open"));
        if (string.IsNullOrEmpty(unmerged.UnmergedBy))
        {
            differences.Add("the merge is not marked undone");
        }

        Assert.True(differences.Count == 0, string.Join('\n', differences));
    }

    [Fact]
    public async Task An_unmerge_is_refused_once_a_person_decided_an_invoice_the_merge_affected()
    {
        var queue = await DuplicatedVendorsAsync();
        var merge = await MergeAsync(queue, "V1", "V2");
        var item = await queue.OpenExceptionOfAsync("I-2");
        await queue.ExceptionsAsync("RejectException", new RejectExceptionRequest { ExceptionId = item.Id, Reason = "Price not agreed" }, Roles.Approver);

        var reply = await VendorCallAsync(queue, "UnmergeVendor", new UnmergeVendorRequest { MergeId = merge.MergeId });

        Assert.Equal((StatusCode.FailedPrecondition, "MERGE_CHANGED_SINCE"), (reply.Status, reply.Reason));
    }

    [Fact]
    public async Task A_dismissed_pair_no_longer_shows_as_possible_duplicates_and_a_clerk_may_merge_but_an_auditor_may_not()
    {
        var queue = await DuplicatedVendorsAsync();
        var clustersBefore = (await VendorCallAsync(queue, "ListDuplicateClusters", new ListDuplicateClustersRequest())).As<ListDuplicateClustersResponse>();

        await VendorCallAsync(queue, "DismissDuplicate", new DismissDuplicateRequest { FirstVendorCode = "V2", SecondVendorCode = "V1" }, Roles.Clerk);
        var clustersAfter = (await VendorCallAsync(queue, "ListDuplicateClusters", new ListDuplicateClustersRequest())).As<ListDuplicateClustersResponse>();
        var byAuditor = await VendorCallAsync(queue, "MergeVendors", new MergeVendorsRequest { SurvivorCode = "V1", MergedCodes = { "V2" } }, Roles.Auditor);

        Assert.Equal(
            (true, false, StatusCode.PermissionDenied),
            (clustersBefore.Clusters.Any(cluster => cluster.Vendors.Any(vendor => vendor.VendorCode == "V2")),
                clustersAfter.Clusters.Any(cluster => cluster.Vendors.Any(vendor => vendor.VendorCode == "V2")), byAuditor.Status));
    }

    /// <summary>
    /// V2 is V1 under another name, with a name an operator confirmed for it. I-1 prints V1 and matches PO-1; I-2 prints V2
    /// and is over PO-2's price (an open exception); I-3 prints V1's name but quotes V2's PO-2 (the vendors disagree).
    /// </summary>
    private async Task<QueueTenant> DuplicatedVendorsAsync()
    {
        var queue = await QueueTenant.CreateAsync(server, Vendors);
        await queue.ImportAsync(DocumentKind.PurchaseOrders,
            $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,H-1,Hinge,100,1.00\nPO-2,V2,2026-01-05,GBP,1,B-1,Bolt,50,2.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,100\nGR-2,PO-2,1,2026-01-10,50\n");
        await server.Server.Services.GetRequiredService<VendorMaster>().ConfirmAsync(
            queue.Tenant.Id, [new NameConfirmation("Acme Sup. Nederland", "V2")], "tester", CancellationToken.None);
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\n" +
            "I-1,Acme Supplies Ltd,2026-01-12,GBP,PO-1,1,H-1,Hinge,10,1.00,10.00,10.00\n" +
            "I-2,ACME Supplies Limited Amsterdam,2026-01-12,GBP,PO-2,1,B-1,Bolt,10,2.50,25.00,25.00\n" +
            "I-3,Acme Supplies Ltd,2026-01-13,GBP,PO-2,1,B-1,Bolt,5,2.00,10.00,10.00\n" +
            "I-4,Acme Sup. Nederland,2026-01-14,GBP,PO-2,1,B-1,Bolt,5,2.00,10.00,10.00\n");
        await queue.DecidedOnArrivalAsync();
        return queue;
    }

    private static async Task<VendorMerge> MergeAsync(QueueTenant queue, string survivor, params string[] merged)
    {
        var reply = await VendorCallAsync(queue, "MergeVendors", new MergeVendorsRequest { SurvivorCode = survivor, MergedCodes = { merged } }, Roles.Clerk);
        Assert.True(reply.Status == StatusCode.OK, reply.ToString());
        return reply.As<VendorMerge>();
    }

    private static async Task<RpcReply> VendorCallAsync(QueueTenant queue, string method, Google.Protobuf.IMessage request, string role = Roles.Admin) =>
        await queue.Tenant.CallAsync(Method(method), request, await queue.TokenAsync(role));

    private static async Task<Dictionary<string, Dictionary<string, string>>> SnapshotAsync(QueueTenant queue)
    {
        var snapshot = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (table, row) in AffectedTables)
        {
            snapshot[table] = (await queue.QueryAsync<(string, string)>($"select t.id::text, ({row})::text from {table} t"))
                .ToDictionary(entry => entry.Item1, entry => entry.Item2, StringComparer.Ordinal);
        }

        return snapshot;
    }

    /// <summary>Every row of <paramref name="before"/> that is missing or different in <paramref name="after"/>, and every row added besides closed exceptions.</summary>
    private static List<string> Differences(Dictionary<string, Dictionary<string, string>> before, Dictionary<string, Dictionary<string, string>> after)
    {
        var differences = new List<string>();
        foreach (var (table, rows) in before)
        {
            foreach (var (id, row) in rows)
            {
                if (!after[table].TryGetValue(id, out var now))
                {
                    differences.Add($"{table} {id}: gone (was {row})");
                }
                else if (now != row)
                {
                    differences.Add($"{table} {id}: was {row}\n    now {now}");
                }
            }

            differences.AddRange(after[table].Keys.Where(id => !rows.ContainsKey(id) && table != "exceptions").Select(id => $"{table} {id}: added {after[table][id]}"));
        }

        return differences;
    }
}
