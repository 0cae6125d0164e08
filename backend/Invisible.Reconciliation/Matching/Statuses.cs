namespace Invisible.Reconciliation.Matching;

/// <summary>Outcome of one invoice line against its PO line (FORMATS section 2), in rule order.</summary>
public enum LineStatus
{
    Unmatched,
    NotReceived,
    QuantityVariance,
    PriceVariance,
    WithinTolerance,
    Matched,
}

/// <summary>Outcome of a whole invoice (FORMATS section 2), in rule order.</summary>
public enum InvoiceStatus
{
    Duplicate,
    NoPo,
    Exception,
    AwaitingReceipt,
    Matched,
}

/// <summary>How a PO was found for an invoice.</summary>
public enum PoIdentifiedBy
{
    None,
    PrintedReference,
    Inferred,
}

/// <summary>How an invoice line was paired with a PO line.</summary>
public enum LinePairedBy
{
    None,
    Sku,
    Description,
}

/// <summary>The snake_case names the results export and the API use.</summary>
public static class StatusNames
{
    public static string ToExportName(this LineStatus status) => status switch
    {
        LineStatus.Unmatched => "unmatched",
        LineStatus.NotReceived => "not_received",
        LineStatus.QuantityVariance => "quantity_variance",
        LineStatus.PriceVariance => "price_variance",
        LineStatus.WithinTolerance => "within_tolerance",
        LineStatus.Matched => "matched",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static string ToExportName(this InvoiceStatus status) => status switch
    {
        InvoiceStatus.Duplicate => "duplicate",
        InvoiceStatus.NoPo => "no_po",
        InvoiceStatus.Exception => "exception",
        InvoiceStatus.AwaitingReceipt => "awaiting_receipt",
        InvoiceStatus.Matched => "matched",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };
}
