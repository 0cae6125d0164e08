namespace Invisible.Reconciliation.Matching;

/// <summary>
/// One set of matching tolerances. A unit price passes when it is within <see cref="UnitPricePercent"/> of the PO price
/// and, if set, within <see cref="UnitPriceAbsolute"/> as well (the stricter limit wins).
/// </summary>
/// <param name="QuantityPercent">How far cumulative invoiced quantity may exceed received (3-way) or ordered (2-way).</param>
/// <param name="InvoiceTotalAbsolute">How far the printed header total may be from the sum of lines and taxes (rounding).</param>
public sealed record ToleranceRule(
    decimal UnitPricePercent,
    decimal? UnitPriceAbsolute,
    decimal QuantityPercent,
    decimal InvoiceTotalAbsolute)
{
    public bool AllowsPrice(decimal poUnitPrice, decimal invoiceUnitPrice)
    {
        var difference = Math.Abs(invoiceUnitPrice - poUnitPrice);
        if (UnitPriceAbsolute is { } absolute && difference > absolute)
        {
            return false;
        }

        // Most prices are billed as ordered: a zero difference is zero percent of any price, without dividing.
        if (difference == 0)
        {
            return poUnitPrice == 0 || 0 <= UnitPricePercent;
        }

        return poUnitPrice != 0 && difference * 100m / poUnitPrice <= UnitPricePercent;
    }

    /// <summary>The most that may be invoiced in total against a base quantity (received or ordered).</summary>
    public decimal QuantityCeiling(decimal baseQuantity) => baseQuantity * QuantityCeilingFactor;

    /// <summary>What <see cref="QuantityCeiling"/> multiplies by, for loops that apply one rule to many quantities.</summary>
    internal decimal QuantityCeilingFactor => 1 + QuantityPercent / 100m;

    public override string ToString() =>
        $"price ±{UnitPricePercent}%" + (UnitPriceAbsolute is { } absolute ? $" and ±{absolute}" : "") +
        $", quantity +{QuantityPercent}%, invoice total ±{InvoiceTotalAbsolute}";
}

/// <summary>A tenant's tolerances at one version, with per-vendor overrides.</summary>
public sealed record Tolerances(int Version, ToleranceRule TenantDefault, IReadOnlyDictionary<string, ToleranceRule> VendorOverrides)
{
    /// <summary>FORMATS section 2 defaults: unit price ±2 %, quantity 0 %, invoice total ±0.05.</summary>
    public static Tolerances Default { get; } = new(1, new ToleranceRule(2m, null, 0m, 0.05m), new Dictionary<string, ToleranceRule>());

    public ToleranceRule For(string? vendorCode) =>
        vendorCode is not null && VendorOverrides.TryGetValue(vendorCode, out var rule) ? rule : TenantDefault;
}
