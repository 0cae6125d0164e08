using System.Text;

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

        var builder = new StringBuilder(text.Length);
        foreach (var character in text)
        {
            if (char.IsLetterOrDigit(character))
            {
                builder.Append(char.ToUpperInvariant(character));
            }
        }

        return builder.ToString();
    }

    /// <summary>PO numbers: letters/digits only, case-insensitive, a leading <c>PO</c> and leading zeros ignored (<c>P.O. 010045</c> = <c>PO-10045</c>).</summary>
    public static string PoNumber(string? printed)
    {
        var code = AlphaNumeric(printed);
        if (code.StartsWith("PO", StringComparison.Ordinal))
        {
            code = code[2..];
        }

        return code.TrimStart('0');
    }

    /// <summary>Invoice numbers: letters/digits only, case-insensitive, a leading <c>INV</c>/<c>INVOICE</c>/<c>NO</c> and leading zeros ignored.</summary>
    public static string InvoiceNumber(string? printed)
    {
        // "Invoice No. 0892" carries both prefixes; each is dropped once, never the whole number.
        var code = AlphaNumeric(printed);
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

        return code.TrimStart('0');
    }

    /// <summary>SKUs and tax ids compare on letters and digits only.</summary>
    public static string Code(string? printed) => AlphaNumeric(printed);

    /// <summary>Lower-case words of letters and digits, for comparing free-text descriptions.</summary>
    public static IReadOnlyList<string> Words(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var character in text)
        {
            if (char.IsLetterOrDigit(character))
            {
                current.Append(char.ToLowerInvariant(character));
            }
            else if (character is '.' or '\'' && current.Length > 0 && char.IsLetter(current[^1]))
            {
                // "Fac." and "O'Brien" stay one word; "2.5" is split below only by other separators.
                continue;
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }

        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }

        return words;
    }
}
