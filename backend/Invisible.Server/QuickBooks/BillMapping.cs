using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Invisible.Server.QuickBooks;

/// <summary>An invoice as it is exported: an approved or matched invoice with its lines (a negative total: a credit note).</summary>
public sealed record ExportInvoice(
    Guid Id, string InvoiceNumber, DateOnly InvoiceDate, string Currency, decimal Total, string? PoNumber, string? PaymentTerms,
    IReadOnlyList<ExportLine> Lines)
{
    public bool IsCreditNote => Total < 0;

    public string EntityType => IsCreditNote ? QuickBooksEntities.VendorCredit : QuickBooksEntities.Bill;
}

public sealed record ExportLine(int LineNo, string? Sku, string Description, decimal Quantity, decimal UnitPrice, decimal Amount);

/// <summary>
/// Where an invoice goes in the company: its vendor, the expense account or the item its lines are booked to (the item wins
/// when both are named), the tax code of every line when the company uses them, the PurchaseOrder with the same number if any.
/// </summary>
public sealed record BillTarget(string VendorId, string? AccountId, string? PurchaseOrderId, string? ItemId = null, string? TaxCodeId = null);

public static class QuickBooksEntities
{
    public const string Bill = "Bill";
    public const string VendorCredit = "VendorCredit";
    public const string Vendor = "Vendor";
    public const string PurchaseOrder = "PurchaseOrder";
    public const string Account = "Account";
    public const string Item = "Item";
    public const string TaxCode = "TaxCode";
}

/// <summary>
/// Invoice → Bill (credit note → VendorCredit), the requestid of each attempt and the comparison of what QuickBooks holds
/// with what was sent. Pure: no I/O, so every rule is tested without a company.
/// </summary>
public static partial class BillMapping
{
    /// <summary>
    /// The same for the same invoice and attempt, in every process: QuickBooks answers a repeated requestid with what the
    /// first request created, so a create whose answer was lost is safe to send again. A retry after a Fault is a new attempt.
    /// </summary>
    public static Guid RequestId(Guid tenantId, Guid invoiceId, int attempt)
    {
        var hash = SHA256.HashData(Encoding.ASCII.GetBytes($"invisible.quickbooks.export:{tenantId:N}:{invoiceId:N}:{attempt}"));
        return new Guid(hash.AsSpan(0, 16));
    }

    /// <summary>Due date from payment terms such as "NET30", "Net 30 days" or "due on receipt"; null when the terms say no number.</summary>
    public static DateOnly? DueDate(DateOnly invoiceDate, string? paymentTerms)
    {
        if (string.IsNullOrWhiteSpace(paymentTerms))
        {
            return null;
        }

        if (paymentTerms.Contains("receipt", StringComparison.OrdinalIgnoreCase) || paymentTerms.Contains("immediate", StringComparison.OrdinalIgnoreCase))
        {
            return invoiceDate;
        }

        var days = DaysPattern().Match(paymentTerms);
        return days.Success && int.TryParse(days.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 366 ? invoiceDate.AddDays(n) : null;
    }

    /// <summary>
    /// The Bill (or VendorCredit) body: VendorRef, TxnDate, DueDate from the terms, DocNumber = invoice number, the PO number in
    /// the memo, one account- or item-based expense line per invoice line (amounts as positive numbers for a credit note), the PO
    /// linked on each line, and a line for the rest of the total (tax, charges) so the totals agree.
    /// </summary>
    public static JsonObject ToEntity(ExportInvoice invoice, BillTarget target)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        ArgumentNullException.ThrowIfNull(target);
        var sign = invoice.IsCreditNote ? -1m : 1m;
        var lines = new JsonArray();
        if (target.ItemId is null && target.AccountId is null)
        {
            throw new ArgumentException("A Bill needs an expense account or an item for its lines.", nameof(target));
        }

        foreach (var line in invoice.Lines.OrderBy(line => line.LineNo))
        {
            lines.Add(ExpenseLine(line.LineNo, LineDescription(line), sign * line.Amount, target, (line.Quantity, line.UnitPrice)));
        }

        var rest = sign * (invoice.Total - invoice.Lines.Sum(line => line.Amount));
        if (rest != 0)
        {
            lines.Add(ExpenseLine(invoice.Lines.Count + 1, "Tax and charges", rest, target, null));
        }

        var entity = new JsonObject
        {
            ["VendorRef"] = new JsonObject { ["value"] = target.VendorId },
            ["TxnDate"] = Date(invoice.InvoiceDate),
            ["DocNumber"] = invoice.InvoiceNumber,
            ["CurrencyRef"] = new JsonObject { ["value"] = invoice.Currency },
            ["PrivateNote"] = invoice.PoNumber is null ? $"Invisible invoice {invoice.InvoiceNumber}" : $"PO {invoice.PoNumber}",
            ["Line"] = lines,
        };
        if (!invoice.IsCreditNote && DueDate(invoice.InvoiceDate, invoice.PaymentTerms) is { } due)
        {
            entity["DueDate"] = Date(due);
        }

        return entity;
    }

    /// <summary>What differs between the entity sent and the one QuickBooks holds now: vendor, date, number, lines, total. Empty when they agree.</summary>
    public static IReadOnlyList<string> Differences(JsonObject sent, JsonObject? held)
    {
        ArgumentNullException.ThrowIfNull(sent);
        if (held is null)
        {
            return ["deleted in QuickBooks"];
        }

        var differences = new List<string>();
        Compare("vendor", sent["VendorRef"]?["value"], held["VendorRef"]?["value"], differences);
        Compare("date", sent["TxnDate"], held["TxnDate"], differences);
        Compare("number", sent["DocNumber"], held["DocNumber"], differences);
        var sentAmounts = Amounts(sent);
        var heldAmounts = Amounts(held);
        if (!sentAmounts.SequenceEqual(heldAmounts))
        {
            differences.Add($"lines: sent {string.Join(" + ", sentAmounts.Select(Money))}, QuickBooks has {string.Join(" + ", heldAmounts.Select(Money))}");
        }

        var heldTotal = held["TotalAmt"]?.GetValue<decimal>();
        if (heldTotal is { } total && total != sentAmounts.Sum())
        {
            differences.Add($"total: sent {Money(sentAmounts.Sum())}, QuickBooks has {Money(total)}");
        }

        return differences;
    }

    // An item-based line carries quantity and unit price when the invoice line has them (the rest line has none); the tax
    // code sits in the line's detail, as QuickBooks expects for companies with sales tax or VAT.
    private static JsonObject ExpenseLine(int lineNo, string description, decimal amount, BillTarget target, (decimal Quantity, decimal UnitPrice)? priced)
    {
        var itemBased = target.ItemId is not null;
        var detail = itemBased
            ? new JsonObject { ["ItemRef"] = new JsonObject { ["value"] = target.ItemId } }
            : new JsonObject { ["AccountRef"] = new JsonObject { ["value"] = target.AccountId } };
        if (itemBased && priced is { } p && p.Quantity != 0 && Math.Abs(p.Quantity * p.UnitPrice) == Math.Abs(amount))
        {
            (detail["Qty"], detail["UnitPrice"]) = (Math.Abs(p.Quantity), Math.Abs(p.UnitPrice));
        }

        if (target.TaxCodeId is not null)
        {
            detail["TaxCodeRef"] = new JsonObject { ["value"] = target.TaxCodeId };
        }

        var detailType = itemBased ? "ItemBasedExpenseLineDetail" : "AccountBasedExpenseLineDetail";
        var line = new JsonObject
        {
            ["LineNum"] = lineNo,
            ["Description"] = description,
            ["Amount"] = amount,
            ["DetailType"] = detailType,
            [detailType] = detail,
        };
        if (target.PurchaseOrderId is not null)
        {
            line["LinkedTxn"] = new JsonArray(new JsonObject { ["TxnId"] = target.PurchaseOrderId, ["TxnType"] = QuickBooksEntities.PurchaseOrder });
        }

        return line;
    }

    private static string LineDescription(ExportLine line) =>
        $"{(line.Sku is null ? "" : line.Sku + " ")}{line.Description} ({line.Quantity.ToString("0.####", CultureInfo.InvariantCulture)} × {line.UnitPrice.ToString("0.00##", CultureInfo.InvariantCulture)})";

    private static List<decimal> Amounts(JsonObject entity) =>
        (entity["Line"]?.AsArray() ?? []).Where(line => line?["DetailType"]?.GetValue<string>() != "SubTotalLineDetail")
        .Select(line => line?["Amount"]?.GetValue<decimal>() ?? 0m).Select(amount => decimal.Round(amount, 2)).ToList();

    private static void Compare(string what, JsonNode? sent, JsonNode? held, List<string> differences)
    {
        var (a, b) = (sent?.ToString() ?? "", held?.ToString() ?? "");
        if (!string.Equals(a, b, StringComparison.Ordinal))
        {
            differences.Add($"{what}: sent {a}, QuickBooks has {b}");
        }
    }

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\d+")]
    private static partial Regex DaysPattern();
}
