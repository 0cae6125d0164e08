using System.Globalization;

namespace Invisible.Reconciliation.Matching;

// Parts of the explanations that recur inside larger ones. Each writes itself straight into the buffer of the
// interpolated string it is a hole of (ISpanFormattable), so that an explanation is one string, not one per part. The
// format provider is the one of the enclosing interpolation (none: the current culture), exactly as when the parts were
// strings of their own; amounts are always invariant.

/// <summary>An amount as explanations print it: invariant, up to four decimals, no trailing zeros.</summary>
internal readonly struct AmountText(decimal value, string pattern = AmountText.Plain) : ISpanFormattable
{
    public const string Plain = "0.####";

    /// <summary>A signed percentage with two decimals (<c>+1.50</c>, <c>-0.25</c>, <c>0.00</c>).</summary>
    public const string SignedPercent = "+0.00;-0.00;0.00";

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        value.TryFormat(destination, out charsWritten, pattern, CultureInfo.InvariantCulture);

    public string ToString(string? format, IFormatProvider? formatProvider) => value.ToString(pattern, CultureInfo.InvariantCulture);

    public override string ToString() => ToString(null, null);
}

/// <summary>Which PO line an invoice line was paired with and how: <c>PO-1 line 2 (by SKU)</c>.</summary>
internal readonly struct PairedWithText(string poNumber, int poLineNo, LinePairing pairing) : ISpanFormattable
{
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        pairing.PairedBy == LinePairedBy.Sku
            ? destination.TryWrite(provider, $"{poNumber} line {poLineNo} (by SKU)", out charsWritten)
            : destination.TryWrite(provider, $"{poNumber} line {poLineNo} (by description, {pairing.DescriptionSimilarity:P0} alike)", out charsWritten);

    public string ToString(string? format, IFormatProvider? formatProvider) => string.Create(formatProvider, $"{this}");

    public override string ToString() => ToString(null, null);
}

/// <summary>The cumulative invoiced quantity against what it is held to: <c>12 invoiced so far against 12 received</c>.</summary>
internal readonly struct QuantitiesText(decimal cumulative, decimal quantityBase, bool receiptRequired) : ISpanFormattable
{
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        destination.TryWrite(
            provider,
            $"{new AmountText(cumulative)} invoiced so far against {new AmountText(quantityBase)} {(receiptRequired ? "received" : "ordered (no receipt required)")}",
            out charsWritten);

    public string ToString(string? format, IFormatProvider? formatProvider) => string.Create(formatProvider, $"{this}");

    public override string ToString() => ToString(null, null);
}

/// <summary>The invoiced unit price against the PO's: <c>unit price 10.2 vs PO 10 (+2.00%)</c>.</summary>
internal readonly struct PricesText(decimal invoiceUnitPrice, decimal poUnitPrice, decimal variancePercent) : ISpanFormattable
{
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        destination.TryWrite(
            provider,
            $"unit price {new AmountText(invoiceUnitPrice)} vs PO {new AmountText(poUnitPrice)} ({new AmountText(variancePercent, AmountText.SignedPercent)}%)",
            out charsWritten);

    public string ToString(string? format, IFormatProvider? formatProvider) => string.Create(formatProvider, $"{this}");

    public override string ToString() => ToString(null, null);
}

/// <summary>The lines that are not matched or within tolerance, with their status: <c>line 2 price_variance, line 3 unmatched</c>.</summary>
internal readonly struct ProblemsText(List<LineDecision> lines) : ISpanFormattable
{
    public static bool IsProblem(LineDecision line) => line.Status is not (LineStatus.Matched or LineStatus.WithinTolerance);

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        charsWritten = 0;
        var first = true;
        foreach (var line in lines)
        {
            if (!IsProblem(line))
            {
                continue;
            }

            if (!destination[charsWritten..].TryWrite(provider, $"{(first ? "" : ", ")}line {line.LineNo} {line.Status.ToExportName()}", out var written))
            {
                charsWritten = 0;
                return false;
            }

            charsWritten += written;
            first = false;
        }

        return true;
    }

    public string ToString(string? format, IFormatProvider? formatProvider) => string.Create(formatProvider, $"{this}");

    public override string ToString() => ToString(null, null);
}

/// <summary>The first few ranked PO candidates, separated by <c>; </c>.</summary>
internal readonly struct CandidatesText(IReadOnlyList<PoCandidate> candidates, int count) : ISpanFormattable
{
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        charsWritten = 0;
        for (var i = 0; i < Math.Min(count, candidates.Count); i++)
        {
            if (!destination[charsWritten..].TryWrite(provider, $"{(i == 0 ? "" : "; ")}{candidates[i]}", out var written))
            {
                charsWritten = 0;
                return false;
            }

            charsWritten += written;
        }

        return true;
    }

    public string ToString(string? format, IFormatProvider? formatProvider) => string.Create(formatProvider, $"{this}");

    public override string ToString() => ToString(null, null);
}
