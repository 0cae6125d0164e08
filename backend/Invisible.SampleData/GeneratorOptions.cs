namespace Invisible.SampleData;

/// <summary>How much data to generate and how often suppliers' habits and real problems occur (rates are per invoice or per line).</summary>
public sealed record GeneratorOptions
{
    public int Invoices { get; init; } = 1_000;

    /// <summary>Vendors in the master; 0 picks one per 50 invoices (at least 8, at most what the catalog can name).</summary>
    public int Vendors { get; init; }

    public DateOnly FirstOrderDate { get; init; } = new(2026, 1, 5);

    public int OrderDays { get; init; } = 300;

    public double PrintedNameVariantRate { get; init; } = 0.5;
    public double TaxIdPrintedRate { get; init; } = 0.8;
    public double MissingPoReferenceRate { get; init; } = 0.2;
    public double MissingSkuRate { get; init; } = 0.1;
    public double SplitInvoiceRate { get; init; } = 0.1;
    public double PartialReceiptRate { get; init; } = 0.12;
    public double NotYetReceivedRate { get; init; } = 0.05;
    public double BillsOrderedDespitePartialReceiptRate { get; init; } = 0.4;
    public double OverBilledQuantityRate { get; init; } = 0.02;
    public double PriceDriftWithinToleranceRate { get; init; } = 0.08;
    public double PriceDriftBeyondToleranceRate { get; init; } = 0.05;
    public double UnplannedFreightLineRate { get; init; } = 0.03;
    public double WrongHeaderTotalRate { get; init; } = 0.01;
    public double DuplicateRate { get; init; } = 0.03;

    /// <summary>The price tolerance (percent) the drifts are generated around: within it, or clearly beyond it.</summary>
    public decimal PriceTolerancePercent { get; init; } = 2m;
}
