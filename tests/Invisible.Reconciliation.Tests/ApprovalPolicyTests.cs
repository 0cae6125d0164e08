using Invisible.Reconciliation.Approvals;

namespace Invisible.Reconciliation.Tests;

/// <summary>The approval policy engine: which rule catches an exception, what it still needs, and whose approval counts.</summary>
public class ApprovalPolicyTests
{
    private static readonly Guid Importer = Guid.NewGuid();
    private static readonly Approver Ann = new(Guid.NewGuid(), "approver");
    private static readonly Approver Bob = new(Guid.NewGuid(), "approver");
    private static readonly Approver Ada = new(Guid.NewGuid(), "admin");
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly ApprovalRule OverTenThousand = Rule("Over 10,000", min: 10_000m) with { RequiredApprovals = 2, RequiredRole = "admin" };

    private static ApprovalRule Rule(string name, decimal? min = null, decimal? max = null, string? currency = null) =>
        new(name, min, max, currency, [], [], 1, [], [], null);

    private static ApprovalSubject Invoice(decimal amount, string currency = "GBP", string vendor = "V1", string reasons = "price_variance") =>
        new(amount, currency, new DateOnly(2026, 2, 10), vendor, reasons.Split(','), Importer);

    private static ApprovalPolicy Policy(params ApprovalRule[] rules) => new(rules, fourEyes: false, new ExchangeRates("GBP", []));

    private static GivenApproval By(Approver approver) => new(approver.UserId, approver.UserId, approver.Role);

    [Theory]
    [InlineData("9999.99", null)]
    [InlineData("10000", 0)]
    [InlineData("250000", 0)]
    public void An_amount_rule_catches_invoices_from_its_lower_bound_on(string amount, int? position)
    {
        var match = Policy(OverTenThousand).Match(Invoice(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Equal(position, match.Position);
    }

    [Fact]
    public void An_invoice_in_another_currency_is_converted_at_the_latest_rate_given_on_or_before_its_date()
    {
        var rates = new ExchangeRates("GBP", [new("USD", new DateOnly(2026, 1, 1), 0.5m), new("USD", new DateOnly(2026, 2, 1), 0.8m), new("USD", new DateOnly(2026, 3, 1), 2m)]);
        var policy = new ApprovalPolicy([OverTenThousand], false, rates);

        var match = policy.Match(Invoice(13_000m, "USD"));

        Assert.Equal((10_400m, (int?)0), (match.AmountInTenantCurrency!.Value, match.Position));
    }

    [Fact]
    public void Without_a_rate_an_invoice_is_treated_as_above_every_threshold_but_not_as_under_a_cap()
    {
        var policy = Policy(Rule("Small", max: 1_000m), OverTenThousand);

        var match = policy.Match(Invoice(50m, "CHF"));

        Assert.Equal(1, match.Position);
    }

    [Fact]
    public void A_rule_in_a_named_currency_compares_that_currency_unconverted_and_ignores_others()
    {
        var policy = Policy(Rule("Big in EUR", min: 5_000m, currency: "EUR") with { RequiredApprovals = 3 });

        var caught = (policy.Match(Invoice(6_000m, "EUR")).Position, policy.Match(Invoice(6_000m, "GBP")).Position);

        Assert.Equal(((int?)0, (int?)null), caught);
    }

    [Fact]
    public void Vendor_and_reason_conditions_must_both_hold_and_the_first_rule_in_order_wins()
    {
        var policy = Policy(
            Rule("Acme duplicates") with { VendorCodes = ["ACME"], Reasons = ["duplicate"], RequiredApprovals = 2 },
            Rule("Everything else"));

        var positions = new[]
        {
            policy.Match(Invoice(10m, vendor: "acme", reasons: "totals,duplicate")).Position,
            policy.Match(Invoice(10m, vendor: "ACME", reasons: "price_variance")).Position,
            policy.Match(Invoice(10m, vendor: "OTHER", reasons: "duplicate")).Position,
        };

        Assert.Equal(new int?[] { 0, 1, 1 }, positions);
    }

    [Fact]
    public void Two_approvers_one_of_them_an_admin_is_satisfied_only_when_an_admin_has_approved()
    {
        var policy = Policy(OverTenThousand);
        var invoice = Invoice(20_000m);

        var progress = new[]
        {
            policy.Progress(invoice, []).Summary,
            policy.Progress(invoice, [By(Ann)]).Summary,
            policy.Progress(invoice, [By(Ann), By(Bob)]).Summary,
            policy.Progress(invoice, [By(Ann), By(Ada)]).Summary,
        };

        Assert.Equal(["2 more approvals, one of them from an admin", "1 more approval, one of them from an admin", "1 more approval, one of them from an admin", "Approved"], progress);
    }

    [Fact]
    public void The_last_approval_a_rule_needs_from_an_admin_is_refused_to_an_approver_and_granted_to_an_admin()
    {
        var policy = Policy(OverTenThousand);
        var invoice = Invoice(20_000m);

        var checks = (policy.Check(invoice, [By(Ann)], Bob, [], Now).RefusalCode, policy.Check(invoice, [By(Ann)], Ada, [], Now).Allowed);

        Assert.Equal((ApprovalPolicy.RequiredRoleMissing, true), checks);
    }

    [Fact]
    public void One_person_counts_once_however_often_they_approve()
    {
        var policy = Policy(OverTenThousand);

        var check = policy.Check(Invoice(20_000m), [By(Ann)], Ann, [], Now);

        Assert.Equal(ApprovalPolicy.AlreadyApproved, check.RefusalCode);
    }

    [Fact]
    public void A_rule_naming_users_admits_them_whatever_their_role_and_no_one_else()
    {
        var clerk = new Approver(Guid.NewGuid(), "clerk");
        var policy = Policy(Rule("Named") with { NamedApprovers = [clerk.UserId] });

        var checks = (policy.Check(Invoice(10m), [], clerk, [], Now).Allowed, policy.Check(Invoice(10m), [], Ada, [], Now).RefusalCode);

        Assert.Equal((true, ApprovalPolicy.NotAnApprover), checks);
    }

    [Fact]
    public void Four_eyes_is_a_rule_of_the_engine_refusing_the_importer_and_whoever_acts_for_them()
    {
        var importer = new Approver(Importer, "admin");
        var policy = new ApprovalPolicy([], fourEyes: true, new ExchangeRates("GBP", []));
        var delegation = new Delegation(importer.UserId, Bob.UserId, Now.AddDays(-1), Now.AddDays(1));

        var checks = (
            policy.Check(Invoice(10m), [], importer, [], Now).RefusalCode,
            policy.Check(Invoice(10m), [], Bob, [(importer, delegation)], Now).CountsAs);

        Assert.Equal((ApprovalPolicy.FourEyesRequired, Bob), checks);
    }

    [Fact]
    public void A_delegate_gives_the_admin_approval_for_their_delegator_only_inside_the_window()
    {
        var policy = Policy(OverTenThousand);
        var delegation = new Delegation(Ada.UserId, Bob.UserId, Now.AddDays(-2), Now.AddDays(2));
        var invoice = Invoice(20_000m);

        var inside = policy.Check(invoice, [By(Ann)], Bob, [(Ada, delegation)], Now);
        var before = policy.Check(invoice, [By(Ann)], Bob, [(Ada, delegation)], Now.AddDays(-3));
        var atTheEnd = policy.Check(invoice, [By(Ann)], Bob, [(Ada, delegation)], Now.AddDays(2));

        Assert.Equal((Ada, false, false), (inside.CountsAs, before.Allowed, atTheEnd.Allowed));
    }

    [Fact]
    public void An_approval_given_for_a_delegator_completes_the_rule_as_theirs()
    {
        var policy = Policy(OverTenThousand);

        var progress = policy.Progress(Invoice(20_000m), [By(Ann), new GivenApproval(Bob.UserId, Ada.UserId, Ada.Role)]);

        Assert.True(progress.Satisfied);
    }

    [Fact]
    public void A_rule_with_nonsense_is_refused_field_by_field()
    {
        var rule = new ApprovalRule("", 100m, 50m, "eur", [], [], 0, ["clerk"], [], "auditor");

        var fields = rule.Problems().Select(problem => problem.Field).ToHashSet();

        Assert.Equal(new HashSet<string> { "name", "max_amount", "currency", "required_approvals", "approver_roles", "required_role" }, fields);
    }
}
