namespace Invisible.Reconciliation.Approvals;

/// <summary>A rate the tenant gives: one unit of <paramref name="Currency"/> is worth <paramref name="Rate"/> of the tenant's currency from <paramref name="ValidFrom"/> on.</summary>
public sealed record ExchangeRate(string Currency, DateOnly ValidFrom, decimal Rate);

/// <summary>The tenant's rates into its own currency; the rate for a day is the latest one valid on or before it.</summary>
public sealed class ExchangeRates
{
    private readonly Dictionary<string, ExchangeRate[]> _byCurrency;

    public ExchangeRates(string tenantCurrency, IEnumerable<ExchangeRate> rates)
    {
        TenantCurrency = tenantCurrency;
        _byCurrency = rates
            .GroupBy(rate => rate.Currency, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.OrderBy(rate => rate.ValidFrom).ToArray(), StringComparer.Ordinal);
    }

    public string TenantCurrency { get; }

    /// <summary><paramref name="amount"/> in the tenant's currency at <paramref name="day"/>'s rate; null when the tenant gave none for that day.</summary>
    public decimal? ToTenantCurrency(decimal amount, string currency, DateOnly day)
    {
        if (string.Equals(currency, TenantCurrency, StringComparison.Ordinal))
        {
            return amount;
        }

        var rate = _byCurrency.TryGetValue(currency, out var rates) ? rates.LastOrDefault(candidate => candidate.ValidFrom <= day) : null;
        return rate is null ? null : decimal.Round(amount * rate.Rate, 4, MidpointRounding.ToEven);
    }
}
