using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Invisible.Ingestion.Canonical;
using Invisible.Ingestion.EInvoices;
using Invisible.Ingestion.Validation;
using static Invisible.Ingestion.EInvoices.XmlNavigation;

namespace Invisible.Ingestion.Ubl;

/// <summary>
/// Reads a UBL 2.1 Invoice or CreditNote (Peppol BIS Billing 3.0, XRechnung UBL) into canonical invoice rows, checked
/// by the same <see cref="InvoiceRules"/> as CSV invoices. Loading and dispatch are <see cref="EInvoiceReader"/>'s.
/// <list type="bullet">
/// <item>Supplier: PartyName/Name, else PartyLegalEntity/RegistrationName; its id: the CompanyID of the VAT
/// PartyTaxScheme, else of any other tax scheme, else the legal CompanyID, else EndpointID (the same order the CII
/// reader follows, so that both syntaxes give the same vendor). PO reference: OrderReference/ID, except Peppol's
/// placeholder "NA" (no purchase order).</item>
/// <item>Unit price: PriceAmount / BaseQuantity. When a line's own allowances or charges make quantity × price differ
/// from LineExtensionAmount, the net price (LineExtensionAmount / quantity) is used, since that is what is billed.</item>
/// <item>Tax per line: LineExtensionAmount × ClassifiedTaxCategory/Percent, to cents. The cents by which these differ
/// from the document's TaxSubtotal of that category (VAT is computed per category) go to the category's largest line.</item>
/// <item>Document-level allowances and charges become lines of their own after the last line ("Document charge:
/// reason", quantity ±1, taxed by their TaxCategory), so that, as in CSV, the lines plus tax add up to the total.</item>
/// <item>invoice_total: TaxInclusiveAmount (PayableAmount only when it is absent): what the invoice is worth,
/// before prepayments, which are a matter of settlement. Credit notes: quantities and amounts negated.</item>
/// </list>
/// </summary>
internal static class UblInvoiceReader
{
    private static readonly XNamespace Cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
    private static readonly XNamespace Cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
    public static readonly XName InvoiceRoot = XName.Get("Invoice", "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2");
    public static readonly XName CreditNoteRoot = XName.Get("CreditNote", "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2");

    /// <summary>Whether the content starts (after a byte order mark and whitespace) with '&lt;'.</summary>
    public static bool LooksLikeXml(Stream content, Encoding encoding)
    {
        content.Position = 0;
        using var reader = new StreamReader(content, encoding, detectEncodingFromByteOrderMarks: true, bufferSize: 1024, leaveOpen: true);
        var start = new char[256];
        var length = reader.ReadBlock(start, 0, start.Length);
        content.Position = 0;
        return start.AsSpan(0, length).TrimStart().StartsWith("<");
    }

    public static bool Reads(XName root) => root == InvoiceRoot || root == CreditNoteRoot;

    public static string FormatOf(XElement root) => root.Name == CreditNoteRoot ? "ubl-creditnote" : "ubl-invoice";

    /// <param name="at">Prefix of element paths in errors, e.g. the attachment's name inside a PDF; empty otherwise.</param>
    public static List<InvoiceLineRow> Map(XElement root, ErrorCollector errors, string at) => new UblDocumentMapper(root, errors, at).Map();

    /// <summary>One document to rows; kept apart from the I/O so that the mapping reads top to bottom.</summary>
    private sealed class UblDocumentMapper(XElement root, ErrorCollector errors, string at)
    {
        private readonly InvoiceDraft _draft = new();

        public List<InvoiceLineRow> Map()
        {
            _draft.IsCreditNote = root.Name == CreditNoteRoot || InvoiceDraft.IsCreditNoteType(Value(root, Cbc + "InvoiceTypeCode"));
            var party = root.Element(Cac + "AccountingSupplierParty")?.Element(Cac + "Party");
            _draft.VendorName = Value(party, Cac + "PartyName", Cbc + "Name") ?? Value(party, Cac + "PartyLegalEntity", Cbc + "RegistrationName");
            _draft.VendorTaxId = VendorTaxId(party);
            _draft.InvoiceNumber = Value(root, Cbc + "ID");
            _draft.IssueDate = Date(root, "IssueDate");
            _draft.Currency = Value(root, Cbc + "DocumentCurrencyCode");
            _draft.PoNumber = PurchaseOrderReference();
            _draft.Total = Amount(root, "LegalMonetaryTotal/TaxInclusiveAmount", Cac + "LegalMonetaryTotal", Cbc + "TaxInclusiveAmount")
                ?? Amount(root, "LegalMonetaryTotal/PayableAmount", Cac + "LegalMonetaryTotal", Cbc + "PayableAmount");

            Require(_draft.VendorName, "AccountingSupplierParty/Party/PartyName/Name");
            Require(_draft.InvoiceNumber, "ID");
            Require(_draft.Currency, "DocumentCurrencyCode");
            Require(_draft.IssueDate, "IssueDate");
            Require(_draft.Total, "LegalMonetaryTotal/TaxInclusiveAmount");

            ReadLines();
            ReadDocumentAllowancesAndCharges();
            _draft.AllocateTaxRounding(TaxSubtotals());
            if (_draft.Lines.Count == 0)
            {
                errors.Add(Line(root), at + (root.Name == CreditNoteRoot ? "CreditNoteLine" : "InvoiceLine"), null, "the document has no lines");
            }

            return errors.HasErrors ? [] : _draft.ToRows();
        }

        private static string? VendorTaxId(XElement? party)
        {
            var schemes = party?.Elements(Cac + "PartyTaxScheme").ToList() ?? [];
            var vat = schemes.FirstOrDefault(s => Value(s, Cac + "TaxScheme", Cbc + "ID") == "VAT");
            return Value(vat, Cbc + "CompanyID")
                ?? schemes.Select(s => Value(s, Cbc + "CompanyID")).FirstOrDefault(id => id is not null)
                ?? Value(party, Cac + "PartyLegalEntity", Cbc + "CompanyID")
                ?? Value(party, Cbc + "EndpointID");
        }

        private string? PurchaseOrderReference()
        {
            var reference = root.Element(Cac + "OrderReference");
            var id = Value(reference, Cbc + "ID");
            if (InvoiceDraft.IsNoPurchaseOrderPlaceholder(id))
            {
                // UBL requires an ID when there is only a sales order: Peppol BIS 3 writes "NA", meaning no PO is referenced.
                errors.Warn(Line(reference!), at + "OrderReference/ID", $"'{ErrorCollector.Sanitize(id)}' is a placeholder: no purchase order is referenced");
                return null;
            }

            return id;
        }

        private void ReadLines()
        {
            var isCreditNote = root.Name == CreditNoteRoot;
            var lineName = Cac + (isCreditNote ? "CreditNoteLine" : "InvoiceLine");
            var quantityName = isCreditNote ? "CreditedQuantity" : "InvoicedQuantity";
            var lines = root.Elements(lineName).ToList();
            var lineNumbers = InvoiceDraft.LineNumbers([.. lines.Select(l => Value(l, Cbc + "ID"))],
                message => errors.Warn(Line(lines[0]), at + $"{lineName.LocalName}/ID", message));
            for (var index = 0; index < lines.Count; index++)
            {
                var line = lines[index];
                var sourceLine = Line(line);
                var lineNo = lineNumbers[index];
                var item = line.Element(Cac + "Item");
                var description = Value(item, Cbc + "Name") ?? Value(item, Cbc + "Description");
                var quantity = Amount(line, quantityName, Cbc + quantityName);
                var lineAmount = Amount(line, "LineExtensionAmount", Cbc + "LineExtensionAmount");
                var price = Amount(line, "Price/PriceAmount", Cac + "Price", Cbc + "PriceAmount");
                var baseQuantity = Amount(line, "Price/BaseQuantity", Cac + "Price", Cbc + "BaseQuantity") ?? 1m;
                var taxCategory = item?.Element(Cac + "ClassifiedTaxCategory");
                Require(description, "Item/Name", sourceLine);
                Require(quantity, quantityName, sourceLine);
                Require(lineAmount, "LineExtensionAmount", sourceLine);
                Require(price, "Price/PriceAmount", sourceLine);
                if (baseQuantity <= 0)
                {
                    errors.Add(sourceLine, at + "Price/BaseQuantity", RowRules.Format(baseQuantity), "must be greater than 0");
                }

                if (description is null || quantity is not { } q || lineAmount is not { } amount || price is not { } p || baseQuantity <= 0)
                {
                    continue;
                }

                var (billedQuantity, unitPrice) = InvoiceDraft.BilledQuantityAndPrice(q, p, baseQuantity, amount,
                    message => errors.Warn(sourceLine, at + "Price/PriceAmount", $"line {lineNo}: {message}"));
                _draft.Lines.Add(new LineDraft(sourceLine, lineNo, Value(item, Cac + "SellersItemIdentification", Cbc + "ID"), description, billedQuantity,
                    unitPrice, amount, TaxCategoryKey(taxCategory), Percent(taxCategory)));
            }
        }

        private void ReadDocumentAllowancesAndCharges()
        {
            var nextLineNo = _draft.Lines.Count == 0 ? 1 : _draft.Lines.Max(l => l.LineNo) + 1;
            foreach (var allowanceCharge in root.Elements(Cac + "AllowanceCharge"))
            {
                var sourceLine = Line(allowanceCharge);
                var isCharge = string.Equals(Value(allowanceCharge, Cbc + "ChargeIndicator"), "true", StringComparison.OrdinalIgnoreCase);
                var amount = Amount(allowanceCharge, "AllowanceCharge/Amount", Cbc + "Amount");
                Require(amount, "AllowanceCharge/Amount", sourceLine);
                if (amount is not { } value)
                {
                    continue;
                }

                var reason = Value(allowanceCharge, Cbc + "AllowanceChargeReason") ?? Value(allowanceCharge, Cbc + "AllowanceChargeReasonCode") ?? "unspecified";
                var signedAmount = isCharge ? value : -value;
                var taxCategory = allowanceCharge.Element(Cac + "TaxCategory");
                _draft.Lines.Add(new LineDraft(sourceLine, nextLineNo++, null, $"Document {(isCharge ? "charge" : "allowance")}: {reason}",
                    Math.Sign(signedAmount) == 0 ? 1 : Math.Sign(signedAmount), Math.Abs(value), signedAmount,
                    TaxCategoryKey(taxCategory), Percent(taxCategory)));
            }
        }

        private IEnumerable<(string, decimal)> TaxSubtotals()
        {
            var subtotals = root.Elements(Cac + "TaxTotal")
                .Where(t => t.Element(Cbc + "TaxAmount")?.Attribute("currencyID")?.Value == _draft.Currency)
                .SelectMany(t => t.Elements(Cac + "TaxSubtotal"));
            foreach (var subtotal in subtotals)
            {
                if (Amount(subtotal, "TaxSubtotal/TaxAmount", Cbc + "TaxAmount") is { } tax)
                {
                    yield return (TaxCategoryKey(subtotal.Element(Cac + "TaxCategory")), tax);
                }
            }
        }

        private string TaxCategoryKey(XElement? category) => InvoiceDraft.TaxCategoryKey(Value(category, Cbc + "ID"), Percent(category, report: false));

        /// <summary>The tax rate; 0 when absent. <paramref name="report"/> once per element, so a bad rate is one error.</summary>
        private decimal Percent(XElement? category, bool report = true)
        {
            var element = category?.Element(Cbc + "Percent");
            if (element?.Value.Trim() is not { Length: > 0 } text)
            {
                return 0m;
            }

            if (InvoiceDraft.ParseDecimal(text, InvoiceDraft.MaxPercent, out var problem) is { } percent)
            {
                return percent;
            }

            if (report)
            {
                errors.Add(Line(element), at + "ClassifiedTaxCategory/Percent", text, problem!);
            }

            return 0m;
        }

        private decimal? Amount(XElement? parent, string path, params XName[] names)
        {
            var text = Value(parent, names);
            if (text is null)
            {
                return null;
            }

            if (InvoiceDraft.ParseDecimal(text, InvoiceDraft.MaxMagnitude, out var problem) is { } value)
            {
                return value;
            }

            errors.Add(Line(Element(parent, names) ?? parent!), at + path, text, problem!);
            return null;
        }

        private DateOnly? Date(XElement parent, string name)
        {
            var text = Value(parent, Cbc + name);
            if (text is null)
            {
                return null;
            }

            if (DateOnly.TryParseExact(text, Csv.DateFormatDetector.Iso, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return date;
            }

            errors.Add(Line(parent.Element(Cbc + name)!), at + name, text, "not a date in the format yyyy-MM-dd");
            return null;
        }

        private void Require(object? value, string path, int? line = null)
        {
            if (value is null)
            {
                errors.Add(line ?? Line(root), at + path, null, "is required");
            }
        }
    }
}
