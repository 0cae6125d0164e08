namespace Invisible.Reconciliation.Approvals;

/// <summary>What an exception's approval depends on: its invoice's amount, currency, date and vendor, the exception's reasons, and who imported it.</summary>
/// <param name="ImportedBy">The importing user, for the four-eyes rule; null when an API key or the system imported it.</param>
public sealed record ApprovalSubject(decimal Amount, string Currency, DateOnly InvoiceDate, string? VendorCode, IReadOnlyCollection<string> Reasons, Guid? ImportedBy);

/// <summary>A person as the policy sees them.</summary>
public sealed record Approver(Guid UserId, string Role);

/// <summary><paramref name="DelegatorId"/>'s approvals may be given by <paramref name="DelegateId"/> from <paramref name="StartsAt"/> (inclusive) to <paramref name="EndsAt"/> (exclusive).</summary>
public sealed record Delegation(Guid DelegatorId, Guid DelegateId, DateTimeOffset StartsAt, DateTimeOffset EndsAt)
{
    public bool ActiveAt(DateTimeOffset moment) => StartsAt <= moment && moment < EndsAt;
}

/// <summary>An approval given by <paramref name="ApproverId"/>, counted for <paramref name="PrincipalId"/> (the delegator when acting for one, else the approver) in <paramref name="PrincipalRole"/>.</summary>
public sealed record GivenApproval(Guid ApproverId, Guid PrincipalId, string PrincipalRole);

/// <summary>The rule that catches an exception and why.</summary>
/// <param name="Position">The rule's index in the policy; null for <see cref="ApprovalRule.Default"/>.</param>
/// <param name="AmountInTenantCurrency">Null when the tenant gave no rate for the invoice's currency and date.</param>
public sealed record RuleMatch(ApprovalRule Rule, int? Position, decimal? AmountInTenantCurrency, string Why);

/// <summary>Where an exception's approval stands.</summary>
/// <param name="Remaining">Approvals still needed.</param>
/// <param name="RequiredRoleMissing">The rule's <see cref="ApprovalRule.RequiredRole"/> has not approved yet.</param>
public sealed record ApprovalProgress(RuleMatch Match, IReadOnlyList<GivenApproval> Given, int Remaining, bool RequiredRoleMissing)
{
    public bool Satisfied => Remaining == 0 && !RequiredRoleMissing;

    /// <summary>For the queue: "Approved", or what is still needed ("1 more approval, from an admin").</summary>
    public string Summary
    {
        get
        {
            if (Satisfied)
            {
                return "Approved";
            }

            var count = Remaining == 1 ? "1 more approval" : $"{Remaining} more approvals";
            return RequiredRoleMissing ? $"{count}, one of them from {Article(Match.Rule.RequiredRole!)} {Match.Rule.RequiredRole}" : count;
        }
    }

    private static string Article(string word) => "aeiou".Contains(word[0]) ? "an" : "a";
}

/// <summary>Whether an approval by someone is accepted, and as whose.</summary>
public sealed record ApprovalCheck(bool Allowed, Approver? CountsAs, string? RefusalCode, string? Refusal)
{
    public static ApprovalCheck Allow(Approver countsAs) => new(true, countsAs, null, null);

    public static ApprovalCheck Refuse(string code, string why) => new(false, null, code, why);
}

/// <summary>
/// A tenant's approval policy: its rules in order (the first that catches an exception applies; none: one approval by an
/// approver or admin) and the four-eyes rule (whoever imported an invoice may not approve it, nor may someone acting for
/// them). Pure: the caller reads rules, rates, approvals and delegations and stores what the policy decides.
/// </summary>
public sealed class ApprovalPolicy(IReadOnlyList<ApprovalRule> rules, bool fourEyes, ExchangeRates rates)
{
    public const string FourEyesRequired = "FOUR_EYES_REQUIRED";
    public const string AlreadyApproved = "ALREADY_APPROVED";
    public const string NotAnApprover = "NOT_AN_ELIGIBLE_APPROVER";
    public const string RequiredRoleMissing = "REQUIRED_ROLE_MISSING";

    public IReadOnlyList<ApprovalRule> Rules { get; } = rules;

    public bool FourEyes { get; } = fourEyes;

    public ExchangeRates Rates { get; } = rates;

    public RuleMatch Match(ApprovalSubject subject)
    {
        var converted = Rates.ToTenantCurrency(subject.Amount, subject.Currency, subject.InvoiceDate);
        for (var position = 0; position < Rules.Count; position++)
        {
            var rule = Rules[position];
            if (rule.VendorCodes.Count > 0 && !rule.VendorCodes.Contains(subject.VendorCode ?? "", StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            if (rule.Reasons.Count > 0 && !rule.Reasons.Any(reason => subject.Reasons.Contains(reason, StringComparer.Ordinal)))
            {
                continue;
            }

            if (rule.Currency is { } currency)
            {
                if (string.Equals(currency, subject.Currency, StringComparison.Ordinal) && InBand(rule, subject.Amount))
                {
                    return new RuleMatch(rule, position, converted, $"{subject.Currency} {subject.Amount:0.00} is within the rule's {currency} band");
                }

                continue;
            }

            if (converted is { } amount)
            {
                if (InBand(rule, amount))
                {
                    return new RuleMatch(rule, position, amount, rule.MinAmount is null && rule.MaxAmount is null
                        ? "the rule has no amount band"
                        : $"{Rates.TenantCurrency} {amount:0.00} is within the rule's band");
                }

                continue;
            }

            // No rate for the invoice's day: the amount cannot be shown to be under a cap, so only open-ended bands catch it.
            if (rule.MaxAmount is null)
            {
                return new RuleMatch(rule, position, null,
                    $"no {subject.Currency} rate on or before {subject.InvoiceDate:yyyy-MM-dd}: treated as above every threshold");
            }
        }

        return new RuleMatch(ApprovalRule.Default, null, converted, "no rule of the policy catches it");
    }

    public ApprovalProgress Progress(ApprovalSubject subject, IReadOnlyList<GivenApproval> given)
    {
        var match = Match(subject);
        var counted = given.DistinctBy(approval => approval.PrincipalId).ToList();
        var remaining = Math.Max(0, match.Rule.RequiredApprovals - counted.Count);
        var roleMissing = match.Rule.RequiredRole is { } role && !counted.Any(approval => approval.PrincipalRole == role);
        // A rule changed after approvals were given may want a role no one gave: one more approval, from that role.
        return new ApprovalProgress(match, given, roleMissing && remaining == 0 ? 1 : remaining, roleMissing);
    }

    /// <summary>
    /// Whether <paramref name="approver"/>'s approval now would count, for themselves or for one of <paramref name="delegators"/>
    /// whose delegation to them is active at <paramref name="now"/>. Acting for someone is chosen only when it is what makes
    /// the approval count (their role is the one still missing, or the approver may not approve in their own right).
    /// </summary>
    /// <param name="delegators">The people who delegated to <paramref name="approver"/>, with their current roles; disabled users left out.</param>
    public ApprovalCheck Check(
        ApprovalSubject subject, IReadOnlyList<GivenApproval> given, Approver approver, IReadOnlyList<(Approver Delegator, Delegation Delegation)> delegators,
        DateTimeOffset now)
    {
        var progress = Progress(subject, given);
        if (progress.Satisfied)
        {
            return ApprovalCheck.Refuse(AlreadyApproved, "This exception already has every approval its rule needs.");
        }

        if (given.Any(approval => approval.ApproverId == approver.UserId || approval.PrincipalId == approver.UserId))
        {
            return ApprovalCheck.Refuse(AlreadyApproved, "You have already approved this exception; someone else must give the next approval.");
        }

        if (FourEyes && subject.ImportedBy == approver.UserId)
        {
            return ApprovalCheck.Refuse(FourEyesRequired, "Four-eyes rule: you imported this invoice, so someone else must approve, re-match or clear it.");
        }

        var identities = new List<Approver> { approver };
        identities.AddRange(delegators
            .Where(entry => entry.Delegation.DelegateId == approver.UserId && entry.Delegation.DelegatorId == entry.Delegator.UserId && entry.Delegation.ActiveAt(now))
            .Select(entry => entry.Delegator)
            .DistinctBy(delegator => delegator.UserId));
        var rule = progress.Match.Rule;
        var lastOneNeedsRole = progress.RequiredRoleMissing && progress.Remaining == 1;
        ApprovalCheck? firstRefusal = null;
        foreach (var identity in identities.OrderByDescending(identity => progress.RequiredRoleMissing && identity.Role == rule.RequiredRole))
        {
            var refusal =
                given.Any(approval => approval.PrincipalId == identity.UserId)
                    ? ApprovalCheck.Refuse(AlreadyApproved, "The person you act for has already approved this exception.")
                : FourEyes && subject.ImportedBy == identity.UserId
                    ? ApprovalCheck.Refuse(FourEyesRequired, "Four-eyes rule: the person you act for imported this invoice.")
                : !rule.Admits(identity.UserId, identity.Role)
                    ? ApprovalCheck.Refuse(NotAnApprover, $"The rule \"{rule.Name}\" does not name you among its approvers.")
                : lastOneNeedsRole && identity.Role != rule.RequiredRole
                    ? ApprovalCheck.Refuse(RequiredRoleMissing, $"The rule \"{rule.Name}\" needs its last approval from {(rule.RequiredRole == ApprovalRule.AdminRole ? "an admin" : "an approver")}.")
                : null;
            if (refusal is null)
            {
                return ApprovalCheck.Allow(identity);
            }

            firstRefusal ??= refusal;
        }

        return firstRefusal!;
    }

    private static bool InBand(ApprovalRule rule, decimal amount) =>
        (rule.MinAmount is not { } min || amount >= min) && (rule.MaxAmount is not { } max || amount < max);
}
