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
    private readonly Dictionary<DuplicateKeys.NumberKey, Invoice> byNumber = [];
    private readonly Dictionary<DuplicateKeys.DateAndTotalKey, Invoice> byDateAndTotal = [];

    /// <summary>The earlier invoice this one repeats, with the reason; null when it is new (and then it is registered).</summary>
    public (Invoice Original, string Reason)? FindOriginalOrRegister(string vendorCode, Invoice invoice, bool mayBeDuplicate) =>
        FindOriginalOrRegister(new DuplicateKeys(vendorCode, invoice), invoice, mayBeDuplicate);

    /// <summary><see cref="FindOriginalOrRegister(string, Invoice, bool)"/> with the invoice's keys made beforehand.</summary>
    public (Invoice Original, string Reason)? FindOriginalOrRegister(in DuplicateKeys keys, Invoice invoice, bool mayBeDuplicate)
    {
        // Every invoice is looked up and, when new, registered under both keys: each key is hashed once (when the keys
        // were made), by taking its entry (added empty when missing) and filling it in only if the invoice turns out new.
        ref var sameNumber = ref CollectionsMarshal.GetValueRefOrAddDefault(byNumber, keys.Number, out var numberSeen);
        if (mayBeDuplicate && numberSeen)
        {
            return (sameNumber!, $"same invoice number as '{sameNumber!.InvoiceNumber}' ({keys.Number.Number} once normalised)");
        }

        ref var sameDateAndTotal = ref CollectionsMarshal.GetValueRefOrAddDefault(byDateAndTotal, keys.DateAndTotal, out var dateAndTotalSeen);
        if (mayBeDuplicate && dateAndTotalSeen)
        {
            // A duplicate is not registered: take back the number entry this look-up added.
            if (!numberSeen)
            {
                byNumber.Remove(keys.Number);
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

/// <summary>
/// An invoice's two duplicate keys with their hash codes worked out when made: a full reconcile makes them for every
/// invoice in parallel, so the register, which must go in processing order, only compares.
/// </summary>
internal readonly struct DuplicateKeys(string vendorCode, Invoice invoice)
{
    public NumberKey Number { get; } = new(vendorCode, Normalize.InvoiceNumber(invoice.InvoiceNumber));

    public DateAndTotalKey DateAndTotal { get; } = new(vendorCode, invoice.InvoiceDate, invoice.Total);

    /// <summary>The vendor and the normalised invoice number, compared ordinally.</summary>
    public readonly struct NumberKey(string vendorCode, string number) : IEquatable<NumberKey>
    {
        private readonly int hashCode = HashCode.Combine(vendorCode, number);

        public string VendorCode { get; } = vendorCode;

        public string Number { get; } = number;

        public bool Equals(NumberKey other) =>
            hashCode == other.hashCode && string.Equals(VendorCode, other.VendorCode, StringComparison.Ordinal) &&
            string.Equals(Number, other.Number, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is NumberKey other && Equals(other);

        public override int GetHashCode() => hashCode;
    }

    /// <summary>The vendor, the invoice date and the printed total (amounts compare as decimals: 10.0 = 10.00).</summary>
    public readonly struct DateAndTotalKey(string vendorCode, DateOnly date, Money total) : IEquatable<DateAndTotalKey>
    {
        private readonly int hashCode = HashCode.Combine(vendorCode, date, total);

        public string VendorCode { get; } = vendorCode;

        public DateOnly Date { get; } = date;

        public Money Total { get; } = total;

        public bool Equals(DateAndTotalKey other) =>
            hashCode == other.hashCode && string.Equals(VendorCode, other.VendorCode, StringComparison.Ordinal) && Date == other.Date &&
            Total == other.Total;

        public override bool Equals(object? obj) => obj is DateAndTotalKey other && Equals(other);

        public override int GetHashCode() => hashCode;
    }
}
