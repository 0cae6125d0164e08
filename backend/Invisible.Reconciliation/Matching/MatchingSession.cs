using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Text;
using Invisible.Reconciliation.Vendors;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// The matching state of one tenant: master data indexed once, the quantity ledger and the invoices seen so far.
/// Invoices must be given in processing order (invoice date, then file order); each <see cref="Match"/> decides one
/// invoice against everything before it, which is what matching a newly imported invoice incrementally means.
/// A full reconcile (<see cref="MatchAll"/>) decides exactly the same, faster: it builds the index and prepares the
/// invoices over all cores and writes decisions on another core while it decides the next ones; the deciding itself
/// (ledger, open POs, duplicate register) stays in processing order on the calling thread.
/// Not thread-safe to call: one session per tenant per reconcile.
/// </summary>
public sealed class MatchingSession
{
    private readonly VendorResolver vendorResolver;
    private readonly Tolerances tolerances;
    private readonly IReadOnlySet<string> confirmedNotDuplicates;
    private readonly Dictionary<string, IndexedPurchaseOrder[]> purchaseOrdersByNumber = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IndexedPurchaseOrder[]>.AlternateLookup<ReadOnlySpan<char>> purchaseOrdersByNormalizedSpan;
    private readonly Dictionary<string, VendorPurchaseOrders> purchaseOrdersByVendor = new(StringComparer.Ordinal);
    private readonly QuantityLedger ledger;
    private readonly ItemCatalog catalog = new();
    private readonly DuplicateRegister duplicates = new();
    private readonly List<InvoiceDecision> decisions = [];

    // Working state of the invoice being matched, reused from one invoice to the next (a session matches one at a time).
    private readonly InvoiceItems items = new();
    private readonly List<IndexedPurchaseOrder> candidates = [];
    private readonly PoInference inference = new();
    private readonly DraftBatch single = new();
    private readonly DecisionWriter writer;

    /// <summary>How many invoices are decided before their decisions are handed over to be written.</summary>
    private const int WrittenTogether = 1024;

    public MatchingSession(TenantSnapshot masterData, Tolerances tolerances, SimilarityModel? model = null)
    {
        this.tolerances = tolerances;
        writer = new DecisionWriter(tolerances);
        SimilarityModel = model ?? masterData.SimilarityModel ?? SimilarityModel.Prior;
        vendorResolver = new VendorResolver(new VendorDirectory(masterData.Vendors), SimilarityModel);
        confirmedNotDuplicates = masterData.ConfirmedNotDuplicateInvoiceIds;
        var purchaseOrders = masterData.PurchaseOrders;
        var firstSlots = new int[purchaseOrders.Count + 1];
        for (var i = 0; i < purchaseOrders.Count; i++)
        {
            firstSlots[i + 1] = firstSlots[i] + purchaseOrders[i].Lines.Count;
        }

        // The ledger's slots in snapshot order (one dictionary: on this thread), then the POs indexed side by side.
        ledger = new QuantityLedger(firstSlots[^1]);
        var ledgerSlots = new int[firstSlots[^1]];
        for (var i = 0; i < purchaseOrders.Count; i++)
        {
            for (var line = 0; line < purchaseOrders[i].Lines.Count; line++)
            {
                ledgerSlots[firstSlots[i] + line] = ledger.LineSlot(purchaseOrders[i].PoNumber, purchaseOrders[i].Lines[line].LineNo);
            }
        }

        var indexedPurchaseOrders = new IndexedPurchaseOrder[purchaseOrders.Count];
        Parallel.For(0, indexedPurchaseOrders.Length, i =>
            indexedPurchaseOrders[i] = new IndexedPurchaseOrder(purchaseOrders[i], ledger, catalog, ledgerSlots, firstSlots[i]));

        // Goods receipts only touch the ledger: they are booked while the vendors' POs are indexed by item.
        var receiving = Task.Run(() =>
        {
            foreach (var receipt in masterData.Receipts)
            {
                Receive(receipt);
            }
        });

        purchaseOrdersByNumber.EnsureCapacity(indexedPurchaseOrders.Length);
        foreach (var indexed in indexedPurchaseOrders)
        {
            // Normalised numbers are unique in practice: the rare clash grows an array rather than every PO having a list.
            purchaseOrdersByNumber[indexed.NormalizedNumber] = purchaseOrdersByNumber.TryGetValue(indexed.NormalizedNumber, out var same)
                ? [.. same, indexed]
                : [indexed];
        }

        purchaseOrdersByNormalizedSpan = purchaseOrdersByNumber.GetAlternateLookup<ReadOnlySpan<char>>();

        // Each vendor's lists of POs by item are in order date order (then snapshot order), so that a look-up stops at the
        // first PO placed after the invoice date instead of skipping every later one. Vendors are indexed side by side.
        var byOrderDate = (IndexedPurchaseOrder[])indexedPurchaseOrders.Clone();
        var orderDates = new long[byOrderDate.Length];
        for (var i = 0; i < orderDates.Length; i++)
        {
            orderDates[i] = ((long)byOrderDate[i].OrderDate.DayNumber << 32) | (uint)i;
        }

        Array.Sort(orderDates, byOrderDate);
        var ofVendor = new Dictionary<string, List<IndexedPurchaseOrder>>(StringComparer.Ordinal);
        foreach (var indexed in byOrderDate)
        {
            ofVendor.GetOrAddNew(indexed.PurchaseOrder.VendorCode).Add(indexed);
        }

        var vendorCodes = ofVendor.Keys.ToArray();
        var vendorIndexes = new VendorPurchaseOrders[vendorCodes.Length];
        Parallel.For(0, vendorCodes.Length, i =>
        {
            var index = new VendorPurchaseOrders();
            foreach (var indexed in ofVendor[vendorCodes[i]])
            {
                index.Add(indexed);
            }

            vendorIndexes[i] = index;
        });
        for (var i = 0; i < vendorCodes.Length; i++)
        {
            purchaseOrdersByVendor[vendorCodes[i]] = vendorIndexes[i];
        }

        receiving.GetAwaiter().GetResult();
    }

    public SimilarityModel SimilarityModel { get; }

    /// <summary>The decisions so far, in results order (import order, then source line).</summary>
    public ReconciliationResult Result => new(InResultsOrder(decisions), tolerances.Version, SimilarityModel.Version);

    /// <summary>
    /// Books a goods receipt. Decisions already made are not rewritten; a full reconcile re-evaluates them
    /// (receipts count whatever their date).
    /// </summary>
    public void Receive(ReceiptLine receipt) => ledger.Receive(receipt.PoNumber, receipt.PoLineNo, receipt.QuantityReceived);

    public InvoiceDecision Match(Invoice invoice)
    {
        var referenced = FindReferencedPurchaseOrders(invoice.PrintedPoReference);
        single.Clear();
        items.Prepare(invoice.Lines, catalog);
        var vendor = vendorResolver.Resolve(invoice.PrintedVendorName, invoice.PrintedTaxId, VendorOf(referenced));
        var duplicateKeys = vendor.Vendor is { } resolved ? new DuplicateKeys(resolved.Code, invoice) : default;
        Decide(single, invoice, referenced, vendor, duplicateKeys, !confirmedNotDuplicates.Contains(invoice.Id));
        var decision = writer.Write(single, 0);
        decisions.Add(decision);
        return decision;
    }

    /// <summary>
    /// Matches many invoices, given in processing order, as <see cref="Match"/> one by one would: what does not depend on
    /// earlier decisions (the referenced POs, the vendor) is worked out first for all of them over all cores, then each
    /// invoice is decided in order against the ledger.
    /// </summary>
    internal void MatchAll(IReadOnlyList<Invoice> inProcessingOrder) => DecideAll(inProcessingOrder, Prepare(inProcessingOrder));

    /// <summary>
    /// As <see cref="MatchAll"/>, but each batch of decisions, in processing order, goes to <paramref name="decided"/> as
    /// soon as it is written and the session keeps none of them: a caller that stores them as they come never holds the
    /// decisions of the whole tenant. <paramref name="decided"/> runs on one thread at a time; while it has not returned,
    /// deciding stops after the next batch (so a slow consumer bounds what is in flight).
    /// </summary>
    internal void MatchAll(IReadOnlyList<Invoice> inProcessingOrder, Action<IReadOnlyList<InvoiceDecision>> decided) =>
        DecideAll(inProcessingOrder, Prepare(inProcessingOrder), decided);

    /// <summary>
    /// The referenced POs and the vendor of each invoice, in the order given. Vendor resolution depends only on what is
    /// printed and on the master data, never on earlier decisions, so it is done for all invoices at once.
    /// </summary>
    internal PreparedInvoices Prepare(IReadOnlyList<Invoice> invoices)
    {
        var referenced = new IndexedPurchaseOrder[invoices.Count][];
        var printed = new (string PrintedName, string? PrintedTaxId, Vendor? ReferencedPoVendor)[invoices.Count];
        var firstLines = new int[invoices.Count + 1];
        for (var i = 0; i < invoices.Count; i++)
        {
            firstLines[i + 1] = firstLines[i] + invoices[i].Lines.Count;
        }

        // Only reads of the index (and the thread-safe item catalog): many invoices are prepared side by side.
        var skus = new string[firstLines[^1]];
        var descriptions = new ItemDescription[firstLines[^1]];
        Parallel.For(0, invoices.Count, i =>
        {
            var invoice = invoices[i];
            referenced[i] = FindReferencedPurchaseOrders(invoice.PrintedPoReference);
            printed[i] = (invoice.PrintedVendorName, invoice.PrintedTaxId, VendorOf(referenced[i]));
            for (var line = 0; line < invoice.Lines.Count; line++)
            {
                skus[firstLines[i] + line] = catalog.Sku(invoice.Lines[line].Sku);
                descriptions[firstLines[i] + line] = catalog.Description(invoice.Lines[line].Description);
            }
        });
        var vendors = vendorResolver.ResolveAll(printed);

        // The duplicate keys of every invoice with a vendor, hashed here so that the register only compares.
        var duplicateKeys = new DuplicateKeys[invoices.Count];
        var mayBeDuplicates = new bool[invoices.Count];
        Parallel.For(0, invoices.Count, i =>
        {
            if (vendors[i].Vendor is { } vendor)
            {
                duplicateKeys[i] = new DuplicateKeys(vendor.Code, invoices[i]);
                mayBeDuplicates[i] = !confirmedNotDuplicates.Contains(invoices[i].Id);
            }
        });
        return new PreparedInvoices(referenced, vendors, skus, descriptions, firstLines, duplicateKeys, mayBeDuplicates);
    }

    /// <summary>
    /// Decides prepared invoices in the order given (processing order), each against everything before it. Deciding is
    /// sequential (the ledger, the open POs and the duplicate register are in processing order); writing the decisions is
    /// not, so each batch of drafts is written on another thread while this one decides the next batch.
    /// </summary>
    internal void DecideAll(IReadOnlyList<Invoice> invoices, PreparedInvoices prepared, Action<IReadOnlyList<InvoiceDecision>>? handOver = null)
    {
        var decided = handOver is null ? new InvoiceDecision[invoices.Count] : [];
        DraftBatch[] batches = [new(), new()];
        var writing = Task.CompletedTask;
        for (var (start, round) = (0, 0); start < invoices.Count; start += WrittenTogether, round++)
        {
            var batch = batches[round % 2];
            batch.Clear();
            var end = Math.Min(start + WrittenTogether, invoices.Count);
            for (var i = start; i < end; i++)
            {
                items.Use(prepared.Skus, prepared.Descriptions, prepared.FirstLines[i], invoices[i].Lines.Count);
                Decide(batch, invoices[i], prepared.Referenced[i], prepared.Vendors[i], prepared.DuplicateKeys[i], prepared.MayBeDuplicates[i]);
            }

            // The other batch must be written before it is reused for the next round.
            writing.GetAwaiter().GetResult();
            var first = start;
            writing = Task.Run(() =>
            {
                if (handOver is not null)
                {
                    var written = new InvoiceDecision[batch.Count];
                    for (var i = 0; i < batch.Count; i++)
                    {
                        written[i] = writer.Write(batch, i);
                    }

                    handOver(written);
                    return;
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    decided[first + i] = writer.Write(batch, i);
                }
            });
        }

        writing.GetAwaiter().GetResult();
        decisions.AddRange(decided);
    }

    /// <summary>
    /// Decides one invoice against everything decided before it, into a draft of <paramref name="batch"/>; its lines are
    /// in <see cref="items"/> already.
    /// </summary>
    private void Decide(
        DraftBatch batch, Invoice invoice, IndexedPurchaseOrder[] referenced, VendorResolution vendor, in DuplicateKeys duplicateKeys, bool mayBeDuplicate)
    {
        ref var draft = ref batch.Add();
        draft.Invoice = invoice;
        draft.Vendor = vendor;
        draft.Tolerance = tolerances.For(vendor.Vendor?.Code);
        draft.FirstLine = batch.Lines.Count;
        if (vendor.Vendor is null)
        {
            draft.Outcome = DraftOutcome.NoVendor;
        }
        else if (duplicates.FindOriginalOrRegister(duplicateKeys, invoice, mayBeDuplicate) is { } original)
        {
            (draft.Outcome, draft.Original, draft.DuplicateReason) = (DraftOutcome.Duplicate, original.Original, original.Reason);
        }
        else
        {
            MatchToPurchaseOrder(ref draft, batch.Lines, referenced);
        }
    }

    /// <summary>The vendor of the referenced PO, when the reference names POs of exactly one vendor.</summary>
    private Vendor? VendorOf(IndexedPurchaseOrder[] referenced)
    {
        if (referenced.Length == 0)
        {
            return null;
        }

        var code = referenced[0].PurchaseOrder.VendorCode;
        foreach (var po in referenced)
        {
            if (!string.Equals(po.PurchaseOrder.VendorCode, code, StringComparison.Ordinal))
            {
                return null;
            }
        }

        return vendorResolver.Directory.FindByCode(code);
    }

    /// <summary>The POs whose normalised number is the printed reference's, normalised on the stack: every invoice looks one up.</summary>
    private IndexedPurchaseOrder[] FindReferencedPurchaseOrders(string? printedReference)
    {
        if (string.IsNullOrEmpty(printedReference))
        {
            return [];
        }

        Span<char> buffer = printedReference.Length <= 256 ? stackalloc char[printedReference.Length] : new char[printedReference.Length];
        var normalized = Normalize.PoNumber(printedReference, buffer);
        return normalized.Length > 0 && purchaseOrdersByNormalizedSpan.TryGetValue(normalized, out var found) ? found : [];
    }

    /// <summary>
    /// The PO (the printed reference's, else inferred), then each line paired with a PO line and booked on the ledger;
    /// a PO invoiced in full is closed for inference.
    /// </summary>
    private void MatchToPurchaseOrder(ref DecisionDraft draft, List<LineDraft> lineDrafts, IndexedPurchaseOrder[] referenced)
    {
        var invoice = draft.Invoice;
        var vendorCode = draft.Vendor.Vendor!.Code;
        IndexedPurchaseOrder? ofVendor = null;
        foreach (var po in referenced)
        {
            if (po.PurchaseOrder.VendorCode == vendorCode)
            {
                ofVendor = po;
                break;
            }
        }

        if (ofVendor is not null)
        {
            (draft.Chosen, draft.Reference) = (ofVendor, ReferenceProblem.None);
        }
        else
        {
            draft.Reference = string.IsNullOrWhiteSpace(invoice.PrintedPoReference) ? ReferenceProblem.NotPrinted
                : referenced.Length == 0 ? ReferenceProblem.Unknown
                : ReferenceProblem.OtherVendors;
            candidates.Clear();
            purchaseOrdersByVendor.GetValueOrDefault(vendorCode)?.SharingItemsWith(items, invoice.InvoiceDate, candidates);
            (draft.Chosen, draft.Inferred, draft.Ranked) = inference.Infer(invoice, items, candidates, draft.Tolerance);
        }

        if (draft.Chosen is not { } chosen)
        {
            draft.Outcome = DraftOutcome.NoPo;
            return;
        }

        draft.Outcome = DraftOutcome.Matched;
        var pairings = items.PairingBuffer;
        chosen.Pair(items, pairings);
        for (var i = 0; i < invoice.Lines.Count; i++)
        {
            var pairing = pairings[i];
            lineDrafts.Add(pairing.PoLine is null
                ? new LineDraft(pairing, 0, 0)
                : new LineDraft(pairing, chosen.Invoice(pairing.PoLineIndex, invoice.Lines[i].Quantity), chosen.Received(pairing.PoLineIndex)));
        }

        if (!chosen.IsOpen)
        {
            purchaseOrdersByVendor[chosen.PurchaseOrder.VendorCode].Close(chosen);
        }
    }

    /// <summary>Import order, then invoice id; the order of deciding breaks full ties (as a stable sort would).</summary>
    private static List<InvoiceDecision> InResultsOrder(List<InvoiceDecision> decided)
    {
        var ordered = decided.ToArray();
        var keys = new ResultsKey[ordered.Length];
        for (var i = 0; i < ordered.Length; i++)
        {
            keys[i] = new ResultsKey(ordered[i].Origin, ordered[i].InvoiceId, i);
        }

        Array.Sort(keys, ordered);
        return [.. ordered];
    }

    private readonly record struct ResultsKey(ImportOrigin Origin, string InvoiceId, int Position) : IComparable<ResultsKey>
    {
        public int CompareTo(ResultsKey other)
        {
            var order = Origin.CompareTo(other.Origin);
            if (order == 0)
            {
                order = string.CompareOrdinal(InvoiceId, other.InvoiceId);
            }

            return order != 0 ? order : Position.CompareTo(other.Position);
        }
    }

}

/// <summary>What <see cref="MatchingSession.Prepare"/> worked out for each invoice, in the order they were given.</summary>
/// <param name="Skus">Every invoice's normalised line SKUs, one after the other; invoice i's start at <c>FirstLines[i]</c>.</param>
/// <param name="Descriptions">Every invoice's parsed line descriptions, laid out as <paramref name="Skus"/>.</param>
/// <param name="DuplicateKeys">Each invoice's duplicate keys under its resolved vendor (default when it has none).</param>
/// <param name="MayBeDuplicates">Whether each may be a duplicate (a reviewer did not confirm it is not).</param>
internal sealed record PreparedInvoices(
    IndexedPurchaseOrder[][] Referenced,
    IReadOnlyList<VendorResolution> Vendors,
    string[] Skus,
    ItemDescription[] Descriptions,
    int[] FirstLines,
    DuplicateKeys[] DuplicateKeys,
    bool[] MayBeDuplicates);
