using System.Xml;
using System.Xml.Linq;

namespace Invisible.Ingestion.EInvoices;

/// <summary>Paths into an e-invoice's XML, shared by the UBL and the CII reader.</summary>
internal static class XmlNavigation
{
    /// <summary>The element at the end of <paramref name="names"/>, or null where any step is missing.</summary>
    public static XElement? Element(XElement? parent, params XName[] names)
    {
        foreach (var name in names)
        {
            parent = parent?.Element(name);
        }

        return parent;
    }

    /// <summary>The trimmed text at the end of <paramref name="names"/>; null where it is missing or blank.</summary>
    public static string? Value(XElement? parent, params XName[] names) =>
        Element(parent, names)?.Value.Trim() is { Length: > 0 } text ? text : null;

    public static int Line(XElement element) => ((IXmlLineInfo)element).LineNumber;
}
