using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using Invisible.Ingestion.Canonical;
using Invisible.Ingestion.Validation;
using static Invisible.Ingestion.EInvoices.XmlNavigation;

namespace Invisible.Ingestion.EInvoices;

/// <summary>
/// Reads a UN/CEFACT Cross Industry Invoice (D16B, as EN 16931, XRechnung CII and Factur-X/ZUGFeRD 2 use it) into
/// canonical invoice rows, with the same meaning the UBL reader gives the same business terms:
/// <list type="bullet">
/// <item>Number BT-1 ExchangedDocument/ID; date BT-2 IssueDateTime (format 102, yyyyMMdd); type BT-3 TypeCode (credit
/// note types such as 381 are negated); currency BT-5 InvoiceCurrencyCode; PO BT-13 BuyerOrderReferencedDocument.</item>
/// <item>Supplier: the trading name BT-28, else the legal name BT-27 (UBL: PartyName, else RegistrationName); its id:
/// the VAT registration (schemeID VA), else the tax number (FC), else the legal registration id, else the electronic
/// address.</item>
/// <item>Lines: net price / BasisQuantity, billed quantity, LineTotalAmount; document allowances and charges become
/// lines of their own; VAT per category from the document's ApplicableTradeTax; total: GrandTotalAmount (BT-112).</item>
/// <item>Profiles without lines (MINIMUM, BASIC WL) become one summary line: the tax basis total and its VAT.</item>
/// </list>
/// </summary>
internal static class CiiInvoiceReader
{
    private static readonly XNamespace Rsm = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
    private static readonly XNamespace Ram = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";
    private static readonly XNamespace Udt = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100";
    public static readonly XName Root = Rsm + "CrossIndustryInvoice";

    /// <summary>ZUGFeRD 1.0's root: recognised only to reject it with a reason.</summary>
    public static readonly XName ZugferdOneRoot = XName.Get("CrossIndustryDocument", "urn:ferd:CrossIndustryDocument:invoice:1p0");

    public static bool Reads(XName root) => root == Root;

    public static string FormatOf(XElement root) =>
        InvoiceDraft.IsCreditNoteType(root.Element(Rsm + "ExchangedDocument")?.Element(Ram + "TypeCode")?.Value.Trim()) ? "cii-creditnote" : "cii-invoice";

    /// <param name="at">Prefix of element paths in errors, e.g. the attachment's name inside a PDF; empty otherwise.</param>
    public static List<InvoiceLineRow> Map(XElement root, ErrorCollector errors, string at) => new CiiDocumentMapper(root, errors, at).Map();

    private sealed class CiiDocumentMapper(XElement root, ErrorCollector errors, string at)
    {
        private readonly InvoiceDraft _draft = new();

        public List<InvoiceLineRow> Map()
        {
            var document = root.Element(Rsm + "ExchangedDocument");
            var transaction = root.Element(Rsm + "SupplyChainTradeTransaction");
            var agreement = transaction?.Element(Ram + "ApplicableHeaderTradeAgreement");
            var settlement = transaction?.Element(Ram + "ApplicableHeaderTradeSettlement");
            var seller = agreement?.Element(Ram + "SellerTradeParty");
            var summation = settlement?.Element(Ram + "SpecifiedTradeSettlementHeaderMonetarySummation");

            _draft.IsCreditNote = InvoiceDraft.IsCreditNoteType(Value(document, Ram + "TypeCode"));
            _draft.InvoiceNumber = Value(document, Ram + "ID");
            _draft.IssueDate = Date(document);
            _draft.Currency = Value(settlement, Ram + "InvoiceCurrencyCode");
            _draft.VendorName = Value(seller, Ram + "SpecifiedLegalOrganization", Ram + "TradingBusinessName") ?? Value(seller, Ram + "Name");
            _draft.VendorTaxId = VendorTaxId(seller);
            _draft.PoNumber = PurchaseOrderReference(agreement);
            _draft.Total = Amount(summation, "SpecifiedTradeSettlementHeaderMonetarySummation/GrandTotalAmount", Ram + "GrandTotalAmount")
                ?? Amount(summation, "SpecifiedTradeSettlementHeaderMonetarySummation/DuePayableAmount", Ram + "DuePayableAmount");

            Require(_draft.InvoiceNumber, "ExchangedDocument/ID");
            Require(_draft.IssueDate, "ExchangedDocument/IssueDateTime/DateTimeString");
            Require(_draft.Currency, "ApplicableHeaderTradeSettlement/InvoiceCurrencyCode");
            Require(_draft.VendorName, "ApplicableHeaderTradeAgreement/SellerTradeParty/Name");
            Require(_draft.Total, "SpecifiedTradeSettlementHeaderMonetarySummation/GrandTotalAmount");

            var items = transaction?.Elements(Ram + "IncludedSupplyChainTradeLineItem").ToList() ?? [];
            if (items.Count == 0)
            {
                ReadSummaryLine(summation);
            }
            else
            {
                ReadLines(items);
                ReadDocumentAllowancesAndCharges(settlement);
                _draft.AllocateTaxRounding(TaxSubtotals(settlement));
            }

            return errors.HasErrors ? [] : _draft.ToRows();
        }

        private static string? VendorTaxId(XElement? seller)
        {
            var registrations = seller?.Elements(Ram + "SpecifiedTaxRegistration").Select(r => r.Element(Ram + "ID")).OfType<XElement>().ToList() ?? [];
            string? Registration(string scheme) =>
                registrations.FirstOrDefault(id => id.Attribute("schemeID")?.Value == scheme)?.Value.Trim() is { Length: > 0 } text ? text : null;
            return Registration("VA")
                ?? Registration("FC")
                ?? Value(seller, Ram + "SpecifiedLegalOrganization", Ram + "ID")
                ?? Value(seller, Ram + "URIUniversalCommunication", Ram + "URIID");
        }

        private string? PurchaseOrderReference(XElement? agreement)
        {
            var reference = agreement?.Element(Ram + "BuyerOrderReferencedDocument");
            var id = Value(reference, Ram + "IssuerAssignedID");
            if (InvoiceDraft.IsNoPurchaseOrderPlaceholder(id))
            {
                errors.Warn(Line(reference!), at + "BuyerOrderReferencedDocument/IssuerAssignedID", $"'{ErrorCollector.Sanitize(id)}' is a placeholder: no purchase order is referenced");
                return null;
            }

            return id;
        }

        private void ReadLines(List<XElement> items)
        {
            var lineNumbers = InvoiceDraft.LineNumbers([.. items.Select(i => Value(i, Ram + "AssociatedDocumentLineDocument", Ram + "LineID"))],
                message => errors.Warn(Line(items[0]), at + "AssociatedDocumentLineDocument/LineID", message));
            for (var index = 0; index < items.Count; index++)
            {
                var item = items[index];
                var sourceLine = Line(item);
                var lineNo = lineNumbers[index];
                var product = item.Element(Ram + "SpecifiedTradeProduct");
                var netPrice = item.Element(Ram + "SpecifiedLineTradeAgreement")?.Element(Ram + "NetPriceProductTradePrice");
                var lineSettlement = item.Element(Ram + "SpecifiedLineTradeSettlement");
                var tax = lineSettlement?.Element(Ram + "ApplicableTradeTax");
                var description = Value(product, Ram + "Name") ?? Value(product, Ram + "Description");
                var quantity = Amount(item, "SpecifiedLineTradeDelivery/BilledQuantity", Ram + "SpecifiedLineTradeDelivery", Ram + "BilledQuantity");
                var lineAmount = Amount(lineSettlement, "SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount",
                    Ram + "SpecifiedTradeSettlementLineMonetarySummation", Ram + "LineTotalAmount");
                var price = Amount(netPrice, "NetPriceProductTradePrice/ChargeAmount", Ram + "ChargeAmount");
                var baseQuantity = Amount(netPrice, "NetPriceProductTradePrice/BasisQuantity", Ram + "BasisQuantity") ?? 1m;
                Require(description, "SpecifiedTradeProduct/Name", sourceLine);
                Require(quantity, "SpecifiedLineTradeDelivery/BilledQuantity", sourceLine);
                Require(lineAmount, "SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount", sourceLine);
                Require(price, "NetPriceProductTradePrice/ChargeAmount", sourceLine);
                if (baseQuantity <= 0)
                {
                    errors.Add(sourceLine, at + "NetPriceProductTradePrice/BasisQuantity", RowRules.Format(baseQuantity), "must be greater than 0");
                }

                if (description is null || quantity is not { } q || lineAmount is not { } amount || price is not { } p || baseQuantity <= 0)
                {
                    continue;
                }

                var (billedQuantity, unitPrice) = InvoiceDraft.BilledQuantityAndPrice(q, p, baseQuantity, amount,
                    message => errors.Warn(sourceLine, at + "NetPriceProductTradePrice/ChargeAmount", $"line {lineNo}: {message}"));
                _draft.Lines.Add(new LineDraft(sourceLine, lineNo, Value(product, Ram + "SellerAssignedID"), description, billedQuantity, unitPrice, amount,
                    TaxCategoryKey(tax), Percent(tax)));
            }
        }

        private void ReadDocumentAllowancesAndCharges(XElement? settlement)
        {
            var nextLineNo = _draft.Lines.Count == 0 ? 1 : _draft.Lines.Max(l => l.LineNo) + 1;
            foreach (var allowanceCharge in settlement?.Elements(Ram + "SpecifiedTradeAllowanceCharge") ?? [])
            {
                var sourceLine = Line(allowanceCharge);
                var isCharge = string.Equals(Value(allowanceCharge, Ram + "ChargeIndicator", Udt + "Indicator"), "true", StringComparison.OrdinalIgnoreCase);
                var amount = Amount(allowanceCharge, "SpecifiedTradeAllowanceCharge/ActualAmount", Ram + "ActualAmount");
                Require(amount, "SpecifiedTradeAllowanceCharge/ActualAmount", sourceLine);
                if (amount is not { } value)
                {
                    continue;
                }

                var reason = Value(allowanceCharge, Ram + "Reason") ?? Value(allowanceCharge, Ram + "ReasonCode") ?? "unspecified";
                var signedAmount = isCharge ? value : -value;
                var tax = allowanceCharge.Element(Ram + "CategoryTradeTax");
                _draft.Lines.Add(new LineDraft(sourceLine, nextLineNo++, null, $"Document {(isCharge ? "charge" : "allowance")}: {reason}",
                    Math.Sign(signedAmount) == 0 ? 1 : Math.Sign(signedAmount), Math.Abs(value), signedAmount, TaxCategoryKey(tax), Percent(tax)));
            }
        }

        /// <summary>
        /// MINIMUM and BASIC WL carry no lines: the invoice becomes its header and one line of the tax basis total
        /// (BT-109) with the VAT total (BT-110), so that, as for every invoice, lines plus tax add up to the total.
        /// </summary>
        private void ReadSummaryLine(XElement? summation)
        {
            var basis = Amount(summation, "SpecifiedTradeSettlementHeaderMonetarySummation/TaxBasisTotalAmount", Ram + "TaxBasisTotalAmount");
            Require(basis, "SpecifiedTradeSettlementHeaderMonetarySummation/TaxBasisTotalAmount");
            var taxTotals = summation?.Elements(Ram + "TaxTotalAmount").ToList() ?? [];
            var inInvoiceCurrency = taxTotals.FirstOrDefault(t => t.Attribute("currencyID")?.Value is null || t.Attribute("currencyID")!.Value == _draft.Currency);
            decimal? tax = null;
            if (inInvoiceCurrency is not null)
            {
                tax = Parse(inInvoiceCurrency, "SpecifiedTradeSettlementHeaderMonetarySummation/TaxTotalAmount");
            }

            if (basis is not { } amount)
            {
                return;
            }

            var taxAmount = tax ?? (_draft.Total is { } total ? total - amount : 0m);
            var profile = Value(root.Element(Rsm + "ExchangedDocumentContext"), Ram + "GuidelineSpecifiedDocumentContextParameter", Ram + "ID") ?? "";
            var profileName = profile.Contains("minimum", StringComparison.OrdinalIgnoreCase) ? "MINIMUM"
                : profile.Contains("basicwl", StringComparison.OrdinalIgnoreCase) ? "BASIC WL" : "line-less";
            _draft.Lines.Add(new LineDraft(Line(summation!), 1, null, $"Invoice total ({profileName} profile: the invoice carries no lines)",
                amount < 0 ? -1 : 1, Math.Abs(amount), amount, "summary", 0m) { TaxAmount = taxAmount });
        }

        private IEnumerable<(string, decimal)> TaxSubtotals(XElement? settlement)
        {
            foreach (var tax in settlement?.Elements(Ram + "ApplicableTradeTax") ?? [])
            {
                if (Amount(tax, "ApplicableTradeTax/CalculatedAmount", Ram + "CalculatedAmount") is { } calculated)
                {
                    yield return (TaxCategoryKey(tax), calculated);
                }
            }
        }

        private string TaxCategoryKey(XElement? category) => InvoiceDraft.TaxCategoryKey(Value(category, Ram + "CategoryCode"), Percent(category, report: false));

        /// <summary>The tax rate; 0 when absent. <paramref name="report"/> once per element, so a bad rate is one error.</summary>
        private decimal Percent(XElement? category, bool report = true)
        {
            var element = category?.Element(Ram + "RateApplicablePercent");
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
                errors.Add(Line(element), at + "ApplicableTradeTax/RateApplicablePercent", text, problem!);
            }

            return 0m;
        }

        private DateOnly? Date(XElement? document)
        {
            var element = document?.Element(Ram + "IssueDateTime")?.Element(Udt + "DateTimeString");
            if (element?.Value.Trim() is not { Length: > 0 } text)
            {
                return null;
            }

            var format = element.Attribute("format")?.Value ?? "102";
            if (format == "102" && DateOnly.TryParseExact(text, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return date;
            }

            errors.Add(Line(element), at + "ExchangedDocument/IssueDateTime/DateTimeString", text,
                format == "102" ? "not a date in the format yyyyMMdd (format 102)" : $"date format '{ErrorCollector.Sanitize(format)}' is not 102 (yyyyMMdd)");
            return null;
        }

        private decimal? Amount(XElement? parent, string path, params XName[] names)
        {
            var element = Element(parent, names);
            return element is null ? null : Parse(element, path);
        }

        private decimal? Parse(XElement element, string path)
        {
            var text = element.Value.Trim();
            if (text.Length == 0)
            {
                return null;
            }

            if (InvoiceDraft.ParseDecimal(text, InvoiceDraft.MaxMagnitude, out var problem) is { } value)
            {
                return value;
            }

            errors.Add(Line(element), at + path, text, problem!);
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
