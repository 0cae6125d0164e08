namespace Invisible.Reconciliation.Text;

/// <summary>Normalisations of identifiers printed by suppliers, exactly as FORMATS section 2 defines them.</summary>
public static class Normalize
{
    private static readonly string[] InvoiceWordPrefixes = ["INVOICE", "INV"];

    /// <summary>Letters and digits only, upper case.</summary>
    public static string AlphaNumeric(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        Span<char> buffer = text.Length <= StackLimit ? stackalloc char[text.Length] : new char[text.Length];
        return ToStringOrSame(text, AlphaNumeric(text, buffer));
    }

    /// <summary>PO numbers: letters/digits only, case-insensitive, a leading <c>PO</c> and leading zeros ignored (<c>P.O. 010045</c> = <c>PO-10045</c>).</summary>
    public static string PoNumber(string? printed)
    {
        if (string.IsNullOrEmpty(printed))
        {
            return "";
        }

        Span<char> buffer = printed.Length <= StackLimit ? stackalloc char[printed.Length] : new char[printed.Length];
        return ToStringOrSame(printed, PoNumber(printed, buffer));
    }

    /// <summary>
    /// <see cref="PoNumber(string?)"/> written into <paramref name="buffer"/> (at least as long as the text), so that a
    /// look-up by the normalised number allocates nothing: every invoice looks up its printed reference.
    /// </summary>
    internal static ReadOnlySpan<char> PoNumber(ReadOnlySpan<char> printed, Span<char> buffer)
    {
        ReadOnlySpan<char> code = AlphaNumeric(printed, buffer);
        if (code.StartsWith("PO", StringComparison.Ordinal))
        {
            code = code[2..];
        }

        return code.TrimStart('0');
    }

    /// <summary>The letters and digits of <paramref name="text"/>, upper case, written into <paramref name="buffer"/>.</summary>
    internal static Span<char> AlphaNumeric(ReadOnlySpan<char> text, Span<char> buffer)
    {
        var length = 0;
        foreach (var character in text)
        {
            if (char.IsLetterOrDigit(character))
            {
                buffer[length++] = char.ToUpperInvariant(character);
            }
        }

        return buffer[..length];
    }

    /// <summary>Longest text normalised in a stack buffer; longer ones (never seen in practice) use the heap.</summary>
    private const int StackLimit = 256;

    /// <summary>The normalised text as a string: the printed string itself when normalising did not change it.</summary>
    private static string ToStringOrSame(string printed, ReadOnlySpan<char> normalized) =>
        normalized.SequenceEqual(printed) ? printed : normalized.IsEmpty ? "" : new string(normalized);

    /// <summary>Invoice numbers: letters/digits only, case-insensitive, a leading <c>INV</c>/<c>INVOICE</c>/<c>NO</c> and leading zeros ignored.</summary>
    public static string InvoiceNumber(string? printed)
    {
        if (string.IsNullOrEmpty(printed))
        {
            return "";
        }

        // "Invoice No. 0892" carries both prefixes; each is dropped once, never the whole number.
        Span<char> buffer = printed.Length <= StackLimit ? stackalloc char[printed.Length] : new char[printed.Length];
        ReadOnlySpan<char> code = AlphaNumeric(printed, buffer);
        foreach (var prefix in InvoiceWordPrefixes)
        {
            if (code.StartsWith(prefix, StringComparison.Ordinal) && code.Length > prefix.Length)
            {
                code = code[prefix.Length..];
                break;
            }
        }

        if (code.StartsWith("NO", StringComparison.Ordinal) && code.Length > 2)
        {
            code = code[2..];
        }

        return ToStringOrSame(printed, code.TrimStart('0'));
    }

    /// <summary>SKUs and tax ids compare on letters and digits only.</summary>
    public static string Code(string? printed) => AlphaNumeric(printed);

    /// <summary>Lower-case words of letters and digits, for comparing free-text descriptions.</summary>
    public static IReadOnlyList<string> Words(string? text) => WordList(text);

    /// <summary><see cref="Words"/> as a list the caller may change (a new one each call).</summary>
    internal static List<string> WordList(string? text)
    {
        var words = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return words;
        }

        // A word is never longer than the text: build it in one buffer and make a string only when it ends.
        Span<char> current = text.Length <= StackLimit ? stackalloc char[text.Length] : new char[text.Length];
        var length = 0;
        foreach (var character in text)
        {
            if (char.IsLetterOrDigit(character))
            {
                current[length++] = char.ToLowerInvariant(character);
            }
            else if (character is '.' or '\'' && length > 0 && char.IsLetter(current[length - 1]))
            {
                // "Fac." and "O'Brien" stay one word; "2.5" is split below only by other separators.
                continue;
            }
            else if (length > 0)
            {
                words.Add(new string(current[..length]));
                length = 0;
            }
        }

        if (length > 0)
        {
            words.Add(new string(current[..length]));
        }

        return words;
    }
}
