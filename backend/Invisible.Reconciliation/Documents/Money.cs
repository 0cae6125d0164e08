using System.Globalization;

namespace Invisible.Reconciliation.Documents;

/// <summary>An amount in an ISO 4217 currency.</summary>
public readonly record struct Money(decimal Amount, string Currency)
{
    public override string ToString() => $"{Amount.ToString("0.00##", CultureInfo.InvariantCulture)} {Currency}";
}
