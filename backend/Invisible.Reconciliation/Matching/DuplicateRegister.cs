using System.Runtime.InteropServices;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Text;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// The invoices seen so far per vendor, keyed the two ways FORMATS section 2 calls an invoice a duplicate: the same
/// normalised invoice number, or the same date and total. The first one registered is the original.
/// </summary>
internal sealed class DuplicateRegister
{
    private readonly Dictionary<(string VendorCode, string Number), Invoice> byNumber = [];
    private readonly Dictionary<(string VendorCode, DateOnly Date, Money Total), Invoice> byDateAndTotal = [];

    /// <summary>The earlier invoice this one repeats, with the reason; null when it is new (and then it is registered).</summary>
    public (Invoice Original, string Reason)? FindOriginalOrRegister(string vendorCode, Invoice invoice, bool mayBeDuplicate)
    {
        // Every invoice is looked up and, when new, registered under both keys: each key is hashed once, by taking its
        // entry (added empty when missing) and filling it in only if the invoice turns out to be new.
        var numberKey = (vendorCode, Normalize.InvoiceNumber(invoice.InvoiceNumber));
        ref var sameNumber = ref CollectionsMarshal.GetValueRefOrAddDefault(byNumber, numberKey, out var numberSeen);
        if (mayBeDuplicate && numberSeen)
        {
            return (sameNumber!, $"same invoice number as '{sameNumber!.InvoiceNumber}' ({numberKey.Item2} once normalised)");
        }

        var dateAndTotalKey = (vendorCode, invoice.InvoiceDate, invoice.Total);
        ref var sameDateAndTotal = ref CollectionsMarshal.GetValueRefOrAddDefault(byDateAndTotal, dateAndTotalKey, out var dateAndTotalSeen);
        if (mayBeDuplicate && dateAndTotalSeen)
        {
            // A duplicate is not registered: take back the number entry this look-up added.
            if (!numberSeen)
            {
                byNumber.Remove(numberKey);
            }

            return (sameDateAndTotal!, $"same date {invoice.InvoiceDate:yyyy-MM-dd} and total {invoice.Total} as '{sameDateAndTotal!.InvoiceNumber}'");
        }

        // The first registered stays the original (an invoice confirmed not to be a duplicate does not replace it).
        if (!numberSeen)
        {
            sameNumber = invoice;
        }

        if (!dateAndTotalSeen)
        {
            sameDateAndTotal = invoice;
        }

        return null;
    }
}
