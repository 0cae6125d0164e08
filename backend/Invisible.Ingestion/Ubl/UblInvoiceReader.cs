using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Invisible.Ingestion.Canonical;
using Invisible.Ingestion.Csv;
using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion.Ubl;

/// <summary>
/// Reads a UBL 2.1 Invoice or CreditNote (Peppol BIS Billing 3.0) into canonical invoice rows, checked by the same
/// <see cref="InvoiceRules"/> as CSV invoices.
/// <list type="bullet">
/// <item>Supplier: PartyName/Name, else PartyLegalEntity/RegistrationName; its id: the VAT CompanyID, else the legal
/// CompanyID, else EndpointID. PO reference: OrderReference/ID, except Peppol's placeholder "NA" (no purchase order).</item>
/// <item>Unit price: PriceAmount / BaseQuantity. When a line's own allowances or charges make quantity × price differ
/// from LineExtensionAmount, the net price (LineExtensionAmount / quantity) is used, since that is what is billed.</item>
/// <item>Tax per line: LineExtensionAmount × ClassifiedTaxCategory/Percent, to cents. The cents by which these differ
/// from the document's TaxSubtotal of that category (VAT is computed per category) go to the category's largest line.</item>
/// <item>Document-level allowances and charges become lines of their own after the last line ("Document charge:
/// reason", quantity ±1, taxed by their TaxCategory), so that, as in CSV, the lines plus tax add up to the total.</item>
/// <item>invoice_total: TaxInclusiveAmount (PayableAmount only when it is absent): what the invoice is worth,
/// before prepayments, which are a matter of settlement. Credit notes: quantities and amounts negated.</item>
/// </list>
/// XML is read securely: no DTDs, no external resolution, a size cap.
/// </summary>
internal static class UblInvoiceReader
{
    private static readonly XNamespace Cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
    private static readonly XNamespace Cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
    private static readonly XName InvoiceRoot = XName.Get("Invoice", "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2");
    private static readonly XName CreditNoteRoot = XName.Get("CreditNote", "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2");

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

    public static async Task<ImportParseResult> ReadAsync(
        Stream content,
        ContentScan scan,
        string fileName,
        ImportOptions options,
        RowBatchSink<InvoiceLineRow> sink,
        ErrorCollector errors,
        CancellationToken cancellationToken)
    {
        var rows = new List<InvoiceLineRow>();
        string? format = null;
        if (scan.Length > options.MaxXmlBytes)
        {
            errors.Add(0, null, null, $"the XML document is {scan.Length:N0} bytes; at most {options.MaxXmlBytes:N0} are accepted");
        }
        else if (await LoadAsync(content, options, errors, cancellationToken) is { } document)
        {
            format = document.Root!.Name == CreditNoteRoot ? "ubl-creditnote" : "ubl-invoice";
            rows = new UblDocumentMapper(document.Root, errors).Map();
            var rules = new InvoiceRules(errors);
            rows.ForEach(rules.Check);
            rules.Complete();
        }

        if (!errors.HasErrors)
        {
            await sink(rows, cancellationToken);
        }

        var detected = format is null ? null : new DetectedFormat(format, scan.Encoding.WebName, null, null, [DateFormatDetector.Iso]);
        return new ImportParseResult(fileName, !errors.HasErrors, errors.HasErrors ? 0 : rows.Count, scan.Sha256, detected,
            errors.Warnings, [.. errors.Errors.OrderBy(e => e.Line)], errors.TotalCount);
    }

    private static async Task<XDocument?> LoadAsync(Stream content, ImportOptions options, ErrorCollector errors, CancellationToken cancellationToken)
    {
        var settings = new XmlReaderSettings
        {
            Async = true,
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = options.MaxXmlBytes,
            MaxCharactersFromEntities = 1024,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
        };
        content.Position = 0;
        try
        {
            using var reader = XmlReader.Create(content, settings);
            var document = await XDocument.LoadAsync(reader, LoadOptions.SetLineInfo, cancellationToken);
            if (document.Root?.Name == InvoiceRoot || document.Root?.Name == CreditNoteRoot)
            {
                return document;
            }

            errors.Add(1, null, document.Root?.Name.ToString(),
                "not a UBL 2.1 Invoice or CreditNote (root element must be Invoice in urn:oasis:names:specification:ubl:schema:xsd:Invoice-2 or CreditNote in …:CreditNote-2)");
        }
        catch (XmlException e)
        {
            errors.Add(Math.Max(e.LineNumber, 1), null, null, $"not well-formed XML: {e.Message}");
        }

        return null;
    }

    /// <summary>One document to rows; kept apart from the I/O so that the mapping reads top to bottom.</summary>
    private sealed class UblDocumentMapper(XElement root, ErrorCollector errors)
    {
        private readonly bool _isCreditNote = root.Name == CreditNoteRoot;
        private readonly List<LineDraft> _lines = [];

        public List<InvoiceLineRow> Map()
        {
            var party = root.Element(Cac + "AccountingSupplierParty")?.Element(Cac + "Party");
            var vendorName = Value(party, Cac + "PartyName", Cbc + "Name") ?? Value(party, Cac + "PartyLegalEntity", Cbc + "RegistrationName");
            var vendorTaxId = Value(party, Cac + "PartyTaxScheme", Cbc + "CompanyID")
                ?? Value(party, Cac + "PartyLegalEntity", Cbc + "CompanyID")
                ?? Value(party, Cbc + "EndpointID");
            var invoiceNumber = Value(root, Cbc + "ID");
            var issueDate = Date(root, "IssueDate");
            var currency = Value(root, Cbc + "DocumentCurrencyCode");
            var poNumber = PurchaseOrderReference();
            var total = Amount(root, "TaxInclusiveAmount", Cac + "LegalMonetaryTotal", Cbc + "TaxInclusiveAmount")
                ?? Amount(root, "PayableAmount", Cac + "LegalMonetaryTotal", Cbc + "PayableAmount");

            Require(vendorName, "AccountingSupplierParty/Party/PartyName/Name");
            Require(invoiceNumber, "ID");
            Require(currency, "DocumentCurrencyCode");
            Require(issueDate, "IssueDate");
            Require(total, "LegalMonetaryTotal/TaxInclusiveAmount");

            ReadLines();
            ReadDocumentAllowancesAndCharges();
            AllocateTaxRounding();
            if (_lines.Count == 0)
            {
                errors.Add(Line(root), _isCreditNote ? "CreditNoteLine" : "InvoiceLine", null, "the document has no lines");
            }

            if (errors.HasErrors)
            {
                return [];
            }

            var sign = _isCreditNote ? -1m : 1m;
            return _lines.Select(l => new InvoiceLineRow(
                l.SourceLine, 1, invoiceNumber!, vendorName!, vendorTaxId, issueDate!.Value, currency!, poNumber, l.LineNo, l.Sku,
                l.Description, sign * l.Quantity, l.UnitPrice, sign * l.LineAmount, sign * l.TaxAmount, sign * total!.Value)).ToList();
        }

        private string? PurchaseOrderReference()
        {
            var reference = root.Element(Cac + "OrderReference");
            var id = Value(reference, Cbc + "ID");
            if (id == "NA")
            {
                // Peppol BIS 3 writes "NA" when there is only a sales order: the invoice references no PO.
                errors.Warn(Line(reference!), "OrderReference/ID", "'NA' means no purchase order is referenced");
                return null;
            }

            return id;
        }

        private void ReadLines()
        {
            var lineName = Cac + (_isCreditNote ? "CreditNoteLine" : "InvoiceLine");
            var quantityName = _isCreditNote ? "CreditedQuantity" : "InvoicedQuantity";
            var position = 0;
            var lineNumbers = new HashSet<int>();
            foreach (var line in root.Elements(lineName))
            {
                position++;
                var sourceLine = Line(line);
                var idText = Value(line, Cbc + "ID");
                var lineNo = int.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0 ? parsed : position;
                if (lineNo != parsed)
                {
                    errors.Warn(sourceLine, "ID", $"line ID '{ErrorCollector.Sanitize(idText)}' is not a number; line {position} by position is used");
                }

                // One UBL document is one invoice: a repeated line ID is a broken document, not a second copy of the invoice.
                if (!lineNumbers.Add(lineNo))
                {
                    errors.Add(sourceLine, "ID", idText, $"duplicate line ID {lineNo} in this document");
                }

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
                    errors.Add(sourceLine, "Price/BaseQuantity", RowRules.Format(baseQuantity), "must be greater than 0");
                }

                if (description is null || quantity is not { } q || lineAmount is not { } amount || price is not { } p || baseQuantity <= 0)
                {
                    continue;
                }

                var unitPrice = decimal.Round(p / baseQuantity, 4, MidpointRounding.AwayFromZero);
                if (q != 0 && InvoiceRules.LineAmount(q, unitPrice) != amount
                    && decimal.Round(amount / q, 4, MidpointRounding.AwayFromZero) is var netPrice
                    && InvoiceRules.LineAmount(q, netPrice) == amount && netPrice >= 0)
                {
                    errors.Warn(sourceLine, "Price/PriceAmount",
                        $"line {lineNo}: {RowRules.Format(q)} × {RowRules.Format(unitPrice)} ≠ LineExtensionAmount {RowRules.Format(amount)} (line allowances or charges); the net unit price {RowRules.Format(netPrice)} is used");
                    unitPrice = netPrice;
                }

                _lines.Add(new LineDraft(sourceLine, lineNo, Value(item, Cac + "SellersItemIdentification", Cbc + "ID"), description, q,
                    unitPrice, amount, TaxCategoryKey(taxCategory), Percent(taxCategory)));
            }
        }

        private void ReadDocumentAllowancesAndCharges()
        {
            var nextLineNo = _lines.Count == 0 ? 1 : _lines.Max(l => l.LineNo) + 1;
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
                _lines.Add(new LineDraft(sourceLine, nextLineNo++, null, $"Document {(isCharge ? "charge" : "allowance")}: {reason}",
                    Math.Sign(signedAmount) == 0 ? 1 : Math.Sign(signedAmount), Math.Abs(value), signedAmount,
                    TaxCategoryKey(taxCategory), Percent(taxCategory)));
            }
        }

        private void AllocateTaxRounding()
        {
            var currency = Value(root, Cbc + "DocumentCurrencyCode");
            var subtotals = root.Elements(Cac + "TaxTotal")
                .Where(t => t.Element(Cbc + "TaxAmount")?.Attribute("currencyID")?.Value == currency)
                .SelectMany(t => t.Elements(Cac + "TaxSubtotal"));
            foreach (var subtotal in subtotals)
            {
                var category = subtotal.Element(Cac + "TaxCategory");
                var declared = Amount(subtotal, "TaxSubtotal/TaxAmount", Cbc + "TaxAmount");
                var lines = _lines.Where(l => l.TaxCategory == TaxCategoryKey(category)).ToList();
                if (declared is not { } tax || lines.Count == 0)
                {
                    continue;
                }

                var difference = tax - lines.Sum(l => l.TaxAmount);
                if (difference != 0 && Math.Abs(difference) <= 0.01m * lines.Count)
                {
                    lines.MaxBy(l => Math.Abs(l.LineAmount))!.TaxAmount += difference;
                }
            }
        }

        private static string TaxCategoryKey(XElement? category) =>
            $"{Value(category, Cbc + "ID")}/{Percent(category).ToString("0.####", CultureInfo.InvariantCulture)}";

        private static decimal Percent(XElement? category) =>
            decimal.TryParse(Value(category, Cbc + "Percent"), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var percent)
                ? percent
                : 0m;

        private decimal? Amount(XElement? parent, string path, params XName[] names)
        {
            var text = Value(parent, names);
            if (text is null)
            {
                return null;
            }

            if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            errors.Add(Line(Element(parent, names) ?? parent!), path, text, "not a number");
            return null;
        }

        private DateOnly? Date(XElement parent, string name)
        {
            var text = Value(parent, Cbc + name);
            if (text is null)
            {
                return null;
            }

            if (DateOnly.TryParseExact(text, DateFormatDetector.Iso, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return date;
            }

            errors.Add(Line(parent.Element(Cbc + name)!), name, text, "not a date in the format yyyy-MM-dd");
            return null;
        }

        private void Require(object? value, string path, int? line = null)
        {
            if (value is null)
            {
                errors.Add(line ?? Line(root), path, null, "is required");
            }
        }

        private static XElement? Element(XElement? parent, params XName[] names)
        {
            foreach (var name in names)
            {
                parent = parent?.Element(name);
            }

            return parent;
        }

        private static string? Value(XElement? parent, params XName[] names) =>
            Element(parent, names)?.Value.Trim() is { Length: > 0 } text ? text : null;

        private static int Line(XElement element) => ((IXmlLineInfo)element).LineNumber;
    }

    /// <summary>A line before signs are applied; tax is adjusted by the per-category rounding allocation.</summary>
    private sealed record LineDraft(
        int SourceLine,
        int LineNo,
        string? Sku,
        string Description,
        decimal Quantity,
        decimal UnitPrice,
        decimal LineAmount,
        string TaxCategory,
        decimal TaxPercent)
    {
        public decimal TaxAmount { get; set; } = decimal.Round(LineAmount * TaxPercent / 100m, 2, MidpointRounding.AwayFromZero);
    }
}
