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
        var numberKey = (vendorCode, Normalize.InvoiceNumber(invoice.InvoiceNumber));
        var dateAndTotalKey = (vendorCode, invoice.InvoiceDate, invoice.Total);
        if (mayBeDuplicate)
        {
            if (byNumber.TryGetValue(numberKey, out var sameNumber))
            {
                return (sameNumber, $"same invoice number as '{sameNumber.InvoiceNumber}' ({numberKey.Item2} once normalised)");
            }

            if (byDateAndTotal.TryGetValue(dateAndTotalKey, out var sameDateAndTotal))
            {
                return (sameDateAndTotal, $"same date {invoice.InvoiceDate:yyyy-MM-dd} and total {invoice.Total} as '{sameDateAndTotal.InvoiceNumber}'");
            }
        }

        byNumber.TryAdd(numberKey, invoice);
        byDateAndTotal.TryAdd(dateAndTotalKey, invoice);
        return null;
    }
}
