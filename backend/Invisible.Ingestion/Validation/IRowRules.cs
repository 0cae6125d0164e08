using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Validation;

/// <summary>
/// The business rules of one kind of file, applied to rows already read (from CSV or UBL). A fresh instance per file:
/// it keeps the compact whole-file state that duplicate and total checks need, and reports into the file's collector.
/// </summary>
public interface IRowRules<in TRow>
{
    /// <summary>Checks one row on its own and against the rows before it.</summary>
    void Check(TRow row);

    /// <summary>Checks the references of a batch of rows against the stored master data, with one look-up per kind of key.</summary>
    Task CheckReferencesAsync(IReadOnlyList<TRow> batch, IReferenceData references, CancellationToken cancellationToken);

    /// <summary>Checks what can only be known at the end of the file, such as invoice totals.</summary>
    void Complete();
}

public static class RowRules
{
    public static IRowRules<TRow> For<TRow>(ErrorCollector errors) where TRow : ICanonicalRow<TRow> => TRow.Kind switch
    {
        DocumentKind.Vendors => (IRowRules<TRow>)(object)new VendorRules(errors),
        DocumentKind.PurchaseOrders => (IRowRules<TRow>)(object)new PurchaseOrderRules(errors),
        DocumentKind.Receipts => (IRowRules<TRow>)(object)new ReceiptRules(errors),
        DocumentKind.Invoices => (IRowRules<TRow>)(object)new InvoiceRules(errors),
        _ => throw new ArgumentOutOfRangeException(nameof(TRow), TRow.Kind, "unknown document kind"),
    };

    /// <summary>Rule shared by the kinds: ISO 4217, upper case.</summary>
    internal static void CheckCurrency(ErrorCollector errors, int line, string? currency)
    {
        if (currency is not null && !IsoCodes.IsCurrency(currency))
        {
            errors.Add(line, "currency", currency, "not an ISO 4217 currency code (three upper-case letters, e.g. EUR)");
        }
    }

    /// <summary>Unit prices have at most 4 decimals, so that quantity × price is exact before rounding to cents.</summary>
    internal static void CheckUnitPrice(ErrorCollector errors, int line, decimal unitPrice)
    {
        if (unitPrice < 0)
        {
            errors.Add(line, "unit_price", Format(unitPrice), "must not be negative");
        }
        else if (unitPrice.Scale > 4 && decimal.Round(unitPrice, 4) != unitPrice)
        {
            errors.Add(line, "unit_price", Format(unitPrice), "has more than 4 decimals");
        }
    }

    internal static void CheckPositive(ErrorCollector errors, int line, string column, decimal value)
    {
        if (value <= 0)
        {
            errors.Add(line, column, Format(value), "must be greater than 0");
        }
    }

    internal static void CheckLineNumber(ErrorCollector errors, int line, string column, int value)
    {
        if (value <= 0)
        {
            errors.Add(line, column, Format(value), "must be 1 or more");
        }
    }

    internal static string Format(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal static string Format(decimal value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal static string Format(DateOnly value) => value.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
