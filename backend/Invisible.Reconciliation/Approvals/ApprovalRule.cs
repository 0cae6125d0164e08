namespace Invisible.Reconciliation.Approvals;

/// <summary>
/// One rule of a tenant's approval policy: which exceptions it catches (amount band, vendors, reasons) and what they need
/// before they are accepted (how many approvals, from whom, one of them from which role). Conditions left empty catch all.
/// </summary>
/// <param name="Name">Shown to reviewers ("Over 10,000").</param>
/// <param name="MinAmount">Inclusive lower bound; null: no lower bound.</param>
/// <param name="MaxAmount">Exclusive upper bound; null: no upper bound.</param>
/// <param name="Currency">
/// Null: the bounds are in the tenant's currency and an invoice in another currency is converted at the rate the tenant gives
/// for its invoice date. Set: the rule catches invoices in that currency only and compares their amounts unconverted.
/// </param>
/// <param name="VendorCodes">Empty: any vendor.</param>
/// <param name="Reasons">Exception reasons (<c>price_variance</c>, <c>duplicate</c>, ...); empty: any. One shared reason is enough.</param>
/// <param name="RequiredApprovals">Distinct people who must approve.</param>
/// <param name="ApproverRoles">Roles whose members may approve; with <paramref name="NamedApprovers"/> also empty: approvers and admins.</param>
/// <param name="NamedApprovers">Users who may approve whatever their role.</param>
/// <param name="RequiredRole">When set, at least one of the approvals must come from a member of this role ("one of them an admin").</param>
public sealed record ApprovalRule(
    string Name,
    decimal? MinAmount,
    decimal? MaxAmount,
    string? Currency,
    IReadOnlyList<string> VendorCodes,
    IReadOnlyList<string> Reasons,
    int RequiredApprovals,
    IReadOnlyList<string> ApproverRoles,
    IReadOnlyList<Guid> NamedApprovers,
    string? RequiredRole)
{
    public const string AdminRole = "admin";
    public const string ApproverRole = "approver";

    /// <summary>What applies when no rule catches an exception: one approval by an approver or an admin (the product's behaviour before policies).</summary>
    public static ApprovalRule Default { get; } = new("Default: one approval", null, null, null, [], [], 1, [ApproverRole, AdminRole], [], null);

    public const int MaxApprovals = 5;

    /// <summary>The roles that may approve, with the default when the rule names neither roles nor people.</summary>
    public IReadOnlyList<string> EffectiveApproverRoles =>
        ApproverRoles.Count == 0 && NamedApprovers.Count == 0 ? [ApproverRole, AdminRole] : ApproverRoles;

    /// <summary>Whether someone of <paramref name="role"/> (or the named <paramref name="userId"/>) may give one of this rule's approvals.</summary>
    public bool Admits(Guid userId, string role) =>
        EffectiveApproverRoles.Contains(role, StringComparer.Ordinal) || NamedApprovers.Contains(userId);

    /// <summary>What is wrong with the rule as written, by field name; empty when it can be saved.</summary>
    public IReadOnlyList<(string Field, string Problem)> Problems()
    {
        var problems = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100)
        {
            problems.Add(("name", "must be 1 to 100 characters"));
        }

        if (MinAmount < 0 || MaxAmount < 0)
        {
            problems.Add(("min_amount", "amounts must not be negative"));
        }

        if (MinAmount is { } min && MaxAmount is { } max && max <= min)
        {
            problems.Add(("max_amount", "must be above min_amount"));
        }

        if (Currency is not null && (Currency.Length != 3 || !Currency.All(char.IsAsciiLetterUpper)))
        {
            problems.Add(("currency", "must be a three-letter ISO code such as EUR, or empty for the tenant's currency"));
        }

        if (RequiredApprovals is < 1 or > MaxApprovals)
        {
            problems.Add(("required_approvals", $"must be 1 to {MaxApprovals}"));
        }

        if (ApproverRoles.Any(role => role is not (ApproverRole or AdminRole)))
        {
            problems.Add(("approver_roles", "only approvers and admins may approve"));
        }

        if (RequiredRole is not null and not (ApproverRole or AdminRole))
        {
            problems.Add(("required_role", "must be approver or admin"));
        }

        if (RequiredRole is not null && !EffectiveApproverRoles.Contains(RequiredRole, StringComparer.Ordinal))
        {
            problems.Add(("required_role", "must be one of the roles that may approve"));
        }

        return problems;
    }
}
