using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion.Canonical;

/// <summary>
/// Decides which rows of an invoices file form one invoice. An invoice is the rows with the same printed vendor name and
/// invoice number (they need not be consecutive), until one of its line numbers comes again: that row starts another
/// copy of the invoice, and the rows after it with that vendor name and number belong to the new copy. A supplier who
/// sends the very same invoice twice therefore yields two invoices in the same file, and telling that it is a duplicate
/// is the matching engine's job (FORMATS.md section 2), not a reason to reject the file.
/// Positions are 1-based and handed out in order of first appearance, so position p is new exactly when
/// <see cref="Count"/> was p - 1. Per invoice only a fingerprint and its line numbers are kept, so memory stays small.
/// </summary>
public sealed class InvoiceGrouping
{
    private readonly Dictionary<UInt128, Copy> _latestCopy = [];
    private Copy? _previous;
    private string? _previousVendorName;
    private string? _previousInvoiceNumber;

    /// <summary>How many invoices (copies included) the rows so far belong to.</summary>
    public int Count { get; private set; }

    /// <summary>The position of the invoice the next row belongs to.</summary>
    public int PositionOf(string vendorName, string invoiceNumber, int lineNo)
    {
        Copy copy;

        // The rows of an invoice are nearly always consecutive: comparing with the previous row saves hashing.
        if (_previous is not null
            && string.Equals(vendorName, _previousVendorName, StringComparison.Ordinal)
            && string.Equals(invoiceNumber, _previousInvoiceNumber, StringComparison.Ordinal))
        {
            copy = _previous;
        }
        else
        {
            var key = NaturalKey.Fingerprint(vendorName, invoiceNumber);
            if (!_latestCopy.TryGetValue(key, out copy!))
            {
                copy = Start(key);
            }

            _previousVendorName = vendorName;
            _previousInvoiceNumber = invoiceNumber;
        }

        if (!copy.AddLine(lineNo))
        {
            copy = Start(copy.Key);
            copy.AddLine(lineNo);
        }

        _previous = copy;
        return copy.Position;
    }

    private Copy Start(UInt128 key)
    {
        var copy = new Copy(key, ++Count);
        _latestCopy[key] = copy;
        return copy;
    }

    private sealed class Copy(UInt128 key, int position)
    {
        private ulong _lines1To64;
        private HashSet<int>? _otherLines;

        public UInt128 Key { get; } = key;

        public int Position { get; } = position;

        /// <summary>False when the copy already has this line number.</summary>
        public bool AddLine(int lineNo)
        {
            if (lineNo is >= 1 and <= 64)
            {
                var bit = 1UL << (lineNo - 1);
                var isNew = (_lines1To64 & bit) == 0;
                _lines1To64 |= bit;
                return isNew;
            }

            return (_otherLines ??= []).Add(lineNo);
        }
    }
}
