using System.Globalization;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Vendors;

namespace Invisible.SampleData;

/// <summary>
/// Generates a realistic tenant: a vendor master, purchase orders, goods receipts and supplier invoices with suppliers'
/// habits (name variants, misformatted or missing PO references, missing SKUs, partial receipts, price drift, re-sent
/// duplicates, services without receipts) and the ground truth of every invoice. The same seed gives the same data.
/// </summary>
public sealed class TenantDataGenerator(int seed)
{
    private static readonly string[] PoReferenceFormats = ["PO-{0}", "PO{0}", "{0}", "PO #{0}", "po-{0}", "P.O. {0}"];
    private static readonly string[] InvoiceNumberFormats = ["INV-{0:00000}", "2026-{0:0000}", "A{0}", "{0}"];

    public GeneratedTenant Generate(GeneratorOptions options)
    {
        var random = new Random(seed);
        var vendors = CreateVendors(random, options);
        var purchaseOrders = new List<PurchaseOrder>();
        var receipts = new List<ReceiptLine>();
        var drafts = new List<DraftInvoice>();
        var poSequence = 10000;
        var receiptSequence = 50000;
        while (drafts.Count < options.Invoices)
        {
            var vendor = vendors[(int)(vendors.Count * Math.Pow(random.NextDouble(), 1.5))];
            var po = CreatePurchaseOrder(random, options, vendor, $"PO-{++poSequence}");
            purchaseOrders.Add(po);
            var delivery = Deliver(random, options, vendor, po, ref receiptSequence);
            receipts.AddRange(delivery.Receipts);
            drafts.AddRange(Bill(random, options, vendor, po, delivery));
        }

        foreach (var original in drafts.Take(options.Invoices).Where(_ => random.NextDouble() < options.DuplicateRate).ToList())
        {
            drafts.Add(ResendAsDuplicate(random, options, original));
        }

        return Assemble(vendors, purchaseOrders, receipts, drafts);
    }

    private static List<GeneratedVendor> CreateVendors(Random random, GeneratorOptions options)
    {
        var combinations = Catalog.NamePrefixes.SelectMany(prefix => Catalog.Trades.Select(trade => (prefix, trade))).ToArray();
        random.Shuffle(combinations);
        var count = options.Vendors > 0 ? options.Vendors : Math.Clamp(options.Invoices / 50, 8, combinations.Length);
        return combinations.Take(Math.Min(count, combinations.Length)).Select((combination, index) =>
        {
            var country = Catalog.Countries[random.Next(Catalog.Countries.Length)];
            var legalForm = country.LegalForms[random.Next(country.LegalForms.Length)];
            var name = $"{combination.prefix} {combination.trade.Name} {legalForm}";
            var taxId = random.NextDouble() < 0.7
                ? country.Country == "US"
                    ? $"{random.Next(10, 99)}-{random.Next(1000000, 9999999)}"
                    : $"{country.Country}{random.Next(100000000, 999999999)}"
                : null;
            var code = $"V{1001 + index}";
            var vendor = new Vendor(code, name, taxId, $"ap@{combination.prefix.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()}{index}.example",
                country.Country, country.Currency, $"NET{15 * (1 + random.Next(4))}");
            var skuPrefix = (new string(combination.prefix.Where(char.IsLetter).Take(3).ToArray()) +
                new string(combination.trade.Name.Where(char.IsLetter).Take(2).ToArray())).ToUpperInvariant();
            return new GeneratedVendor(vendor, combination.trade, skuPrefix, country.TaxRate,
                InvoiceNumberFormats[random.Next(InvoiceNumberFormats.Length)], random.Next(100, 5000), 0.9m + (decimal)random.NextDouble() * 0.2m);
        }).ToList();
    }

    private static PurchaseOrder CreatePurchaseOrder(Random random, GeneratorOptions options, GeneratedVendor vendor, string poNumber)
    {
        var lineCount = Math.Min(vendor.Trade.Items.Length, 1 + (int)(5 * Math.Pow(random.NextDouble(), 1.3)));
        var items = Enumerable.Range(0, vendor.Trade.Items.Length).ToArray();
        random.Shuffle(items);
        var lines = items.Take(lineCount).Select((item, index) =>
        {
            var (description, basePrice) = vendor.Trade.Items[item];
            var quantity = vendor.Trade.FractionalQuantities
                ? Math.Round(5m + (decimal)random.NextDouble() * 400m, 1)
                : 1 + (int)(200 * Math.Pow(random.NextDouble(), 2));
            var price = Math.Round(basePrice * vendor.PriceLevel * (0.95m + (decimal)random.NextDouble() * 0.1m), 2);
            return new PurchaseOrderLine(index + 1, $"{vendor.SkuPrefix}-{100 + item:0000}", description, quantity, Math.Max(price, 0.01m), !vendor.Trade.IsService);
        }).ToList();
        var orderDate = options.FirstOrderDate.AddDays(random.Next(options.OrderDays));
        return new PurchaseOrder(poNumber, vendor.Vendor.Code, orderDate, vendor.Vendor.Currency!, lines);
    }

    private static Delivery Deliver(Random random, GeneratorOptions options, GeneratedVendor vendor, PurchaseOrder po, ref int receiptSequence)
    {
        var received = po.Lines.ToDictionary(line => line.LineNo, _ => 0m);
        if (vendor.Trade.IsService)
        {
            return new Delivery(DeliveryKind.Service, [], received, po.OrderDate.AddDays(random.Next(5, 30)));
        }

        var roll = random.NextDouble();
        var kind = roll < options.NotYetReceivedRate ? DeliveryKind.NotYetReceived
            : roll < options.NotYetReceivedRate + options.PartialReceiptRate ? DeliveryKind.Partial
            : DeliveryKind.Full;
        var receipts = new List<ReceiptLine>();
        var lastDate = po.OrderDate.AddDays(random.Next(2, 10));
        if (kind == DeliveryKind.NotYetReceived)
        {
            return new Delivery(kind, receipts, received, lastDate);
        }

        var inTwoDeliveries = kind == DeliveryKind.Full && random.NextDouble() < 0.3;
        var firstNumber = $"GR-{++receiptSequence}";
        var secondNumber = inTwoDeliveries ? $"GR-{++receiptSequence}" : firstNumber;
        var secondDate = lastDate.AddDays(random.Next(3, 15));
        foreach (var line in po.Lines)
        {
            var quantity = kind == DeliveryKind.Partial ? RoundQuantity(line.Quantity * (0.4m + (decimal)random.NextDouble() * 0.5m), vendor) : line.Quantity;
            quantity = Math.Max(quantity, vendor.Trade.FractionalQuantities ? 0.1m : 1m);
            if (inTwoDeliveries && quantity >= 2)
            {
                var first = RoundQuantity(quantity / 2, vendor);
                receipts.Add(new ReceiptLine(firstNumber, po.PoNumber, line.LineNo, lastDate, first));
                receipts.Add(new ReceiptLine(secondNumber, po.PoNumber, line.LineNo, secondDate, quantity - first));
            }
            else
            {
                receipts.Add(new ReceiptLine(firstNumber, po.PoNumber, line.LineNo, lastDate, quantity));
            }

            received[line.LineNo] = quantity;
        }

        return new Delivery(kind, receipts, received, inTwoDeliveries ? secondDate : lastDate);
    }

    private static IEnumerable<DraftInvoice> Bill(Random random, GeneratorOptions options, GeneratedVendor vendor, PurchaseOrder po, Delivery delivery)
    {
        var billsOrdered = delivery.Kind == DeliveryKind.Partial && random.NextDouble() < options.BillsOrderedDespitePartialReceiptRate;
        var billable = po.Lines.ToDictionary(line => line.LineNo, line =>
            delivery.Kind is DeliveryKind.Full or DeliveryKind.Partial && !billsOrdered ? delivery.Received[line.LineNo] : line.Quantity);
        var clean = delivery.Kind is DeliveryKind.Full or DeliveryKind.Service || (delivery.Kind == DeliveryKind.Partial && !billsOrdered);
        var date = delivery.LastDate.AddDays(random.Next(1, 20));
        if (clean && random.NextDouble() < options.SplitInvoiceRate && po.Lines.All(line => billable[line.LineNo] >= 2))
        {
            var firstHalf = po.Lines.ToDictionary(line => line.LineNo, line => RoundQuantity(billable[line.LineNo] / 2, vendor));
            var first = Draft(random, options, vendor, po, firstHalf, date, clean);
            var second = Draft(random, options, vendor, po, po.Lines.ToDictionary(line => line.LineNo, line => billable[line.LineNo] - firstHalf[line.LineNo]),
                date.AddDays(random.Next(5, 30)), clean);
            yield return first;

            // What the first invoice over-billed leaves too little for the second one.
            yield return first.OverBills ? second with { IsClean = false } : second;
        }
        else
        {
            yield return Draft(random, options, vendor, po, billable, date, clean);
        }
    }

    private static DraftInvoice Draft(
        Random random, GeneratorOptions options, GeneratedVendor vendor, PurchaseOrder po, Dictionary<int, decimal> quantities, DateOnly date, bool clean)
    {
        var lines = new List<DraftLine>();
        var overBills = false;
        foreach (var poLine in po.Lines)
        {
            var quantity = quantities[poLine.LineNo];
            if (random.NextDouble() < options.OverBilledQuantityRate)
            {
                quantity += vendor.Trade.FractionalQuantities ? Math.Round(quantity * 0.1m + 0.5m, 1) : 1 + random.Next(3);
                overBills = true;
                clean = false;
            }

            var (price, priceIsClean) = PrintedPrice(random, options, poLine.UnitPrice);
            clean &= priceIsClean;
            var skuMissing = random.NextDouble() < options.MissingSkuRate;
            lines.Add(new DraftLine(poLine.LineNo, skuMissing ? null : poLine.Sku, skuMissing ? DescriptionVariant(random, poLine.Description) : poLine.Description,
                quantity, price));
        }

        if (random.NextDouble() < options.UnplannedFreightLineRate)
        {
            lines.Add(new DraftLine(null, null, "Freight and handling", 1, Math.Round(20m + (decimal)random.NextDouble() * 130m, 2)));
            clean = false;
        }

        var headerError = 0m;
        if (random.NextDouble() < options.WrongHeaderTotalRate)
        {
            headerError = Math.Round(0.5m + (decimal)random.NextDouble() * 20m, 2) * (random.Next(2) == 0 ? 1 : -1);
            clean = false;
        }
        else if (random.NextDouble() < 0.02)
        {
            headerError = 0.01m * random.Next(-3, 4);
        }

        var number = string.Format(CultureInfo.InvariantCulture, vendor.InvoiceNumberFormat, vendor.NextInvoiceNumber++);
        return new DraftInvoice(vendor, number, date, PrintedName(random, options, vendor), PrintedTaxId(random, options, vendor),
            PrintedPoReference(random, options, po.PoNumber), po.PoNumber, lines, headerError, clean, overBills, null);
    }

    private static (decimal Price, bool IsClean) PrintedPrice(Random random, GeneratorOptions options, decimal poPrice)
    {
        var roll = random.NextDouble();
        if (roll < options.PriceDriftWithinToleranceRate)
        {
            var drift = (0.2m + (decimal)random.NextDouble() * (options.PriceTolerancePercent - 0.4m)) / 100m * (random.Next(2) == 0 ? 1 : -1);
            var price = Math.Round(poPrice * (1 + drift), 2);
            var isWithin = poPrice > 0 && Math.Abs(price - poPrice) * 100m / poPrice <= options.PriceTolerancePercent;
            return isWithin ? (price, true) : (poPrice, true);
        }

        if (roll < options.PriceDriftWithinToleranceRate + options.PriceDriftBeyondToleranceRate)
        {
            var drift = (options.PriceTolerancePercent + 1m + (decimal)random.NextDouble() * 12m) / 100m;
            return (Math.Max(Math.Round(poPrice * (1 + drift), 2), poPrice + 0.01m), false);
        }

        return (poPrice, true);
    }

    private static DraftInvoice ResendAsDuplicate(Random random, GeneratorOptions options, DraftInvoice original)
    {
        var number = random.Next(4) switch
        {
            0 => $"INV-{original.Number}",
            1 => $"INV {original.Number}",
            2 => $"0{original.Number}",
            _ => original.Number.ToLowerInvariant(),
        };
        return original with
        {
            Number = number,
            PrintedName = PrintedName(random, options, original.Vendor),
            DuplicateOf = original,
            IsClean = false,
        };
    }

    private static GeneratedTenant Assemble(
        List<GeneratedVendor> vendors, List<PurchaseOrder> purchaseOrders, List<ReceiptLine> receipts, List<DraftInvoice> drafts)
    {
        // One invoices file, mostly in date order as accounts payable keys them in; a re-sent copy comes after its original.
        var ordered = drafts.Select((draft, index) => (draft, index))
            .OrderBy(entry => entry.draft.Date).ThenBy(entry => entry.draft.DuplicateOf is null ? 0 : 1).ThenBy(entry => entry.index)
            .Select(entry => entry.draft)
            .ToList();
        var ids = new Dictionary<DraftInvoice, string>(ReferenceEqualityComparer.Instance);
        var invoices = new List<Invoice>(ordered.Count);
        var truth = new List<InvoiceTruth>(ordered.Count);
        var sourceLine = 2;
        foreach (var draft in ordered)
        {
            var firstLine = sourceLine;
            var id = $"1:{firstLine}";
            ids[draft] = id;
            var lines = draft.Lines.Select((line, index) =>
            {
                var amount = Math.Round(line.Quantity * line.UnitPrice, 2, MidpointRounding.AwayFromZero);
                return new InvoiceLine(index + 1, line.Sku, line.Description, line.Quantity, line.UnitPrice, amount,
                    Math.Round(amount * draft.Vendor.TaxRate, 2, MidpointRounding.AwayFromZero), sourceLine++);
            }).ToList();
            var total = lines.Sum(line => line.LineAmount + line.TaxAmount) + draft.HeaderError;
            invoices.Add(new Invoice(id, draft.Number, draft.PrintedName, draft.PrintedTaxId, draft.Date, draft.Vendor.Vendor.Currency!,
                draft.PrintedPoReference, total, new ImportOrigin(1, firstLine), lines));
            truth.Add(new InvoiceTruth(id, draft.Vendor.Vendor.Code, draft.PoNumber, draft.DuplicateOf is { } original ? ids[original] : null, draft.IsClean,
                lines.Zip(draft.Lines).Select(pair => new LineTruth(pair.First.SourceLine, pair.Second.PoLineNo)).ToList()));
        }

        var snapshot = new TenantSnapshot(vendors.Select(vendor => vendor.Vendor).ToList(), purchaseOrders, receipts, invoices);
        return new GeneratedTenant(snapshot, truth);
    }

    private static string PrintedName(Random random, GeneratorOptions options, GeneratedVendor vendor) =>
        random.NextDouble() < options.PrintedNameVariantRate ? PrintedNameVariants.Variant(vendor.Vendor.Name, random) : vendor.Vendor.Name;

    private static string? PrintedTaxId(Random random, GeneratorOptions options, GeneratedVendor vendor) =>
        vendor.Vendor.TaxId is not null && random.NextDouble() < options.TaxIdPrintedRate ? vendor.Vendor.TaxId : null;

    private static string? PrintedPoReference(Random random, GeneratorOptions options, string poNumber) =>
        random.NextDouble() < options.MissingPoReferenceRate
            ? null
            : string.Format(CultureInfo.InvariantCulture, PoReferenceFormats[random.Next(PoReferenceFormats.Length)], poNumber["PO-".Length..]);

    private static string DescriptionVariant(Random random, string description) => random.Next(3) switch
    {
        0 => description.ToUpperInvariant(),
        1 => description.Replace(",", "", StringComparison.Ordinal),
        _ => description,
    };

    private static decimal RoundQuantity(decimal quantity, GeneratedVendor vendor) =>
        Math.Round(quantity, vendor.Trade.FractionalQuantities ? 1 : 0, MidpointRounding.ToZero);

    private sealed record GeneratedVendor(
        Vendor Vendor, Trade Trade, string SkuPrefix, decimal TaxRate, string InvoiceNumberFormat, int FirstInvoiceNumber, decimal PriceLevel)
    {
        public int NextInvoiceNumber { get; set; } = FirstInvoiceNumber;
    }

    private enum DeliveryKind
    {
        Full,
        Partial,
        NotYetReceived,
        Service,
    }

    private sealed record Delivery(DeliveryKind Kind, List<ReceiptLine> Receipts, Dictionary<int, decimal> Received, DateOnly LastDate);

    private sealed record DraftLine(int? PoLineNo, string? Sku, string Description, decimal Quantity, decimal UnitPrice);

    private sealed record DraftInvoice(
        GeneratedVendor Vendor,
        string Number,
        DateOnly Date,
        string PrintedName,
        string? PrintedTaxId,
        string? PrintedPoReference,
        string PoNumber,
        List<DraftLine> Lines,
        decimal HeaderError,
        bool IsClean,
        bool OverBills,
        DraftInvoice? DuplicateOf);
}
