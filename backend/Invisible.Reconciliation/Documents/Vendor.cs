namespace Invisible.Reconciliation.Documents;

/// <summary>A vendor of the tenant's master, with the other names it is known to print on its invoices.</summary>
public sealed record Vendor(
    string Code,
    string Name,
    string? TaxId = null,
    string? Email = null,
    string? Country = null,
    string? Currency = null,
    string? PaymentTerms = null)
{
    /// <summary>Names reviewers have confirmed for this vendor (e.g. a trading name), used like the master name.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>
    /// Printed names a person said are this vendor (assigning, re-matching, approving, keying, merging, the operator's
    /// CLI): the resolver takes them at their word before scoring, unless the printed tax id contradicts them.
    /// </summary>
    public IReadOnlyList<string> ConfirmedAliases { get; init; } = [];
}
