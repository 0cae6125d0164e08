using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;
using Invisible.Reconciliation.Approvals;
using Invisible.Server.Errors;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.Exceptions;

/// <summary>One approval given, with names for the queue.</summary>
public sealed record GivenApprovalView(Guid ApproverId, string ApproverName, Guid? OnBehalfOfId, string? OnBehalfOfName, DateTime ApprovedAt, string Comment);

/// <summary>Where an exception's approval stands, with the people whose approval would count now.</summary>
public sealed record ApprovalProgressView(ApprovalProgress Progress, IReadOnlyList<GivenApprovalView> Approvals, IReadOnlyList<string> EligibleApproverNames);

/// <summary>A delegation with its people's names.</summary>
public sealed record DelegationView(
    Guid Id, Guid DelegatorId, string DelegatorName, Guid DelegateId, string DelegateName, DateTime StartsAt, DateTime EndsAt, string Reason, bool Revoked);

/// <summary>The tenant's policy as saved: rules in order, four-eyes, rates, and the tenant's currency.</summary>
public sealed record SavedApprovalPolicy(IReadOnlyList<ApprovalRule> Rules, bool FourEyes, IReadOnlyList<ExchangeRate> Rates, string TenantCurrency)
{
    public ApprovalPolicy Engine => new(Rules, FourEyes, new ExchangeRates(TenantCurrency, Rates));
}

/// <summary>
/// Storage of approval policies (migration 0028): the rules, the approvals given, delegations and exchange rates, read into
/// the pure <see cref="ApprovalPolicy"/> of the domain, which decides.
/// </summary>
public static class ApprovalStore
{
    public static async Task<SavedApprovalPolicy> LoadAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var tenant = await unitOfWork.Db.GetTable<TenantPolicyRow>().Where(row => row.Id == unitOfWork.TenantId).FirstAsync(cancellationToken);
        var rules = await unitOfWork.Db.GetTable<ApprovalRuleRow>().OrderBy(row => row.Position).ToListAsync(cancellationToken);
        var rates = await unitOfWork.Db.GetTable<ExchangeRateRow>().OrderBy(row => row.Currency).ThenBy(row => row.ValidFrom).ToListAsync(cancellationToken);
        return new SavedApprovalPolicy(
            rules.Select(row => row.ToRule()).ToList(),
            tenant.FourEyes,
            rates.Select(row => new ExchangeRate(row.Currency, row.ValidFrom, row.Rate)).ToList(),
            tenant.DefaultCurrency.Trim());
    }

    /// <summary>Replaces the rules, four-eyes and rates; audited with the policy before and after.</summary>
    public static async Task SaveAsync(
        TenantUnitOfWork unitOfWork, Caller caller, SavedApprovalPolicy policy, string? requestId, CancellationToken cancellationToken)
    {
        var before = await LoadAsync(unitOfWork, cancellationToken);
        await unitOfWork.Db.GetTable<ApprovalRuleRow>().DeleteAsync(cancellationToken);
        var position = 0;
        foreach (var rule in policy.Rules)
        {
            await unitOfWork.Db.InsertAsync(ApprovalRuleRow.From(unitOfWork.TenantId, position++, rule, caller.AuditActor), token: cancellationToken);
        }

        await unitOfWork.Db.GetTable<ExchangeRateRow>().DeleteAsync(cancellationToken);
        foreach (var rate in policy.Rates)
        {
            await unitOfWork.Db.InsertAsync(
                new ExchangeRateRow { TenantId = unitOfWork.TenantId, Currency = rate.Currency, ValidFrom = rate.ValidFrom, Rate = rate.Rate }, token: cancellationToken);
        }

        await unitOfWork.Db.GetTable<TenantPolicyRow>()
            .Where(tenant => tenant.Id == unitOfWork.TenantId)
            .Set(tenant => tenant.FourEyes, policy.FourEyes)
            .UpdateAsync(cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "tenant.approval_policy_changed", "tenant", unitOfWork.TenantId.ToString(),
            AuditShape(before), AuditShape(policy), requestId, cancellationToken);
    }

    private static object AuditShape(SavedApprovalPolicy policy) => new { fourEyes = policy.FourEyes, rules = policy.Rules, rates = policy.Rates };

    public static async Task<ApprovalSubject> SubjectAsync(TenantUnitOfWork unitOfWork, ExceptionView item, CancellationToken cancellationToken) =>
        new(item.Invoice.InvoiceTotal, item.Invoice.Currency.Trim(), item.Invoice.InvoiceDate, item.Invoice.VendorCode, Reasons(item.Reason),
            await SegregationOfDuties.ImportedByAsync(unitOfWork, item.Invoice.InvoiceId, cancellationToken));

    public static IReadOnlyList<string> Reasons(string reason) => reason.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The approvals given to the exception and what its rule still needs.</summary>
    public static async Task<ApprovalProgressView> ProgressAsync(
        TenantUnitOfWork unitOfWork, ExceptionView item, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var policy = (await LoadAsync(unitOfWork, cancellationToken)).Engine;
        var subject = await SubjectAsync(unitOfWork, item, cancellationToken);
        var given = await GivenAsync(unitOfWork, item.Id, cancellationToken);
        var progress = policy.Progress(subject, given.Select(row => new GivenApproval(row.ApproverId, row.PrincipalId, row.PrincipalRole)).ToList());
        var people = await PeopleAsync(unitOfWork, cancellationToken);
        var eligible = progress.Satisfied || item.State is not ("open" or "in_review")
            ? []
            : people.Values
                .Where(person => person.DisabledAt is null
                    && policy.Check(subject, progress.Given, new Approver(person.Id, person.Role), [], now).Allowed)
                .Select(person => person.Name)
                .Order(StringComparer.OrdinalIgnoreCase)
                .ToList();
        return new ApprovalProgressView(
            progress,
            given.Select(row => View(row, people)).ToList(),
            eligible);
    }

    /// <summary>
    /// The people an open exception waits for: those whose approval would count now. Delegation respected: while someone
    /// has delegated their approvals, their delegate is asked instead of them (disabled people are never asked).
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> WaitingForAsync(
        TenantUnitOfWork unitOfWork, ExceptionView item, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (item.State is not ("open" or "in_review"))
        {
            return [];
        }

        var policy = (await LoadAsync(unitOfWork, cancellationToken)).Engine;
        var subject = await SubjectAsync(unitOfWork, item, cancellationToken);
        var given = (await GivenAsync(unitOfWork, item.Id, cancellationToken))
            .Select(row => new GivenApproval(row.ApproverId, row.PrincipalId, row.PrincipalRole)).ToList();
        if (policy.Progress(subject, given).Satisfied)
        {
            return [];
        }

        var people = (await PeopleAsync(unitOfWork, cancellationToken)).Values.Where(person => person.DisabledAt is null).ToDictionary(person => person.Id);
        var moment = now.UtcDateTime;
        var delegations = (await unitOfWork.Db.GetTable<DelegationRow>()
                .Where(row => row.RevokedAt == null && row.StartsAt <= moment && row.EndsAt > moment)
                .ToListAsync(cancellationToken))
            .Where(row => people.ContainsKey(row.DelegatorId) && people.ContainsKey(row.DelegateId))
            .ToList();
        var away = delegations.Select(row => row.DelegatorId).ToHashSet();
        var waitingFor = new List<Guid>();
        foreach (var person in people.Values)
        {
            var delegators = delegations.Where(row => row.DelegateId == person.Id)
                .Select(row => (new Approver(row.DelegatorId, people[row.DelegatorId].Role), new Delegation(row.DelegatorId, person.Id, Utc(row.StartsAt), Utc(row.EndsAt))))
                .ToList();
            var check = policy.Check(subject, given, new Approver(person.Id, person.Role), delegators, now);
            if (check.Allowed && (check.CountsAs!.UserId != person.Id || !away.Contains(person.Id)))
            {
                waitingFor.Add(person.Id);
            }
        }

        return waitingFor;
    }

    /// <summary>
    /// The progress of a page of the queue: one read of the policy, the people and the page's approvals. Without the
    /// eligible names (they need the importer of each invoice): the queue says what is still needed, the detail who.
    /// </summary>
    public static async Task<IReadOnlyList<ExceptionView>> WithProgressAsync(
        TenantUnitOfWork unitOfWork, IReadOnlyList<ExceptionView> items, CancellationToken cancellationToken)
    {
        if (items.Count == 0)
        {
            return items;
        }

        var policy = (await LoadAsync(unitOfWork, cancellationToken)).Engine;
        var ids = items.Select(item => item.Id).ToArray();
        var given = (await unitOfWork.Db.GetTable<ExceptionApprovalRow>()
                .Where(row => ids.Contains(row.ExceptionId))
                .OrderBy(row => row.ApprovedAt)
                .ToListAsync(cancellationToken))
            .ToLookup(row => row.ExceptionId);
        var people = given.Count == 0 ? new Dictionary<Guid, Person>() : await PeopleAsync(unitOfWork, cancellationToken);
        return items.Select(item =>
        {
            var rows = given[item.Id].ToList();
            var subject = new ApprovalSubject(
                item.Invoice.InvoiceTotal, item.Invoice.Currency.Trim(), item.Invoice.InvoiceDate, item.Invoice.VendorCode, Reasons(item.Reason), null);
            var progress = policy.Progress(subject, rows.Select(row => new GivenApproval(row.ApproverId, row.PrincipalId, row.PrincipalRole)).ToList());
            return item with { Approval = new ApprovalProgressView(progress, rows.Select(row => View(row, people)).ToList(), []) };
        }).ToList();
    }

    private static GivenApprovalView View(ExceptionApprovalRow row, Dictionary<Guid, Person> people)
    {
        string Name(Guid id) => people.TryGetValue(id, out var person) ? person.Name : "an API key";
        var forSomeoneElse = row.PrincipalId != row.ApproverId;
        return new GivenApprovalView(
            row.ApproverId, Name(row.ApproverId), forSomeoneElse ? row.PrincipalId : null, forSomeoneElse ? Name(row.PrincipalId) : null, row.ApprovedAt, row.Comment);
    }

    /// <summary>
    /// Records <paramref name="caller"/>'s approval of the exception, or refuses it (PERMISSION_DENIED with the engine's
    /// reason). Returns the progress after it; the caller accepts the invoice when it is satisfied.
    /// </summary>
    public static async Task<(ApprovalProgress Progress, object Audit)> RecordAsync(
        TenantUnitOfWork unitOfWork, Caller caller, ExceptionView item, string comment, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var policy = (await LoadAsync(unitOfWork, cancellationToken)).Engine;
        var subject = await SubjectAsync(unitOfWork, item, cancellationToken);
        var given = (await GivenAsync(unitOfWork, item.Id, cancellationToken))
            .Select(row => new GivenApproval(row.ApproverId, row.PrincipalId, row.PrincipalRole)).ToList();
        var delegators = caller.Kind == CallerKind.User ? await DelegatorsAsync(unitOfWork, caller.UserId, now, cancellationToken) : [];
        var check = policy.Check(subject, given, new Approver(caller.UserId, caller.Role), delegators, now);
        if (!check.Allowed)
        {
            throw DomainException.WithReason(ErrorKind.PermissionDenied, check.Refusal!, check.RefusalCode!, ExceptionQueue.ErrorDomain);
        }

        var rule = policy.Match(subject);
        var countsAs = check.CountsAs!;
        await unitOfWork.Db.InsertAsync(new ExceptionApprovalRow
        {
            Id = Guid.NewGuid(),
            TenantId = unitOfWork.TenantId,
            ExceptionId = item.Id,
            ApproverId = caller.UserId,
            PrincipalId = countsAs.UserId,
            PrincipalRole = countsAs.Role,
            RuleName = rule.Rule.Name,
            Comment = comment,
            ApprovedAt = now.UtcDateTime,
        }, token: cancellationToken);
        var after = policy.Progress(subject, [.. given, new GivenApproval(caller.UserId, countsAs.UserId, countsAs.Role)]);
        return (after, new
        {
            rule = rule.Rule.Name,
            why = rule.Why,
            approver = caller.UserId,
            onBehalfOf = countsAs.UserId == caller.UserId ? (Guid?)null : countsAs.UserId,
            approvals = after.Given.Count,
            remaining = after.Remaining,
            accepted = after.Satisfied,
        });
    }

    /// <summary>The people who delegated their approvals to <paramref name="delegateId"/> (active or not at <paramref name="now"/>; the engine checks windows), disabled ones left out.</summary>
    private static async Task<IReadOnlyList<(Approver, Delegation)>> DelegatorsAsync(
        TenantUnitOfWork unitOfWork, Guid delegateId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var moment = now.UtcDateTime;
        var rows = await (
                from delegation in unitOfWork.Db.GetTable<DelegationRow>()
                join user in unitOfWork.Db.GetTable<UserRow>() on delegation.DelegatorId equals user.Id
                where delegation.DelegateId == delegateId && delegation.RevokedAt == null && user.DisabledAt == null
                      && delegation.StartsAt <= moment && delegation.EndsAt > moment
                select new { delegation.DelegatorId, user.Role, delegation.StartsAt, delegation.EndsAt })
            .ToListAsync(cancellationToken);
        return rows.Select(row => (new Approver(row.DelegatorId, row.Role),
                new Delegation(row.DelegatorId, delegateId, Utc(row.StartsAt), Utc(row.EndsAt))))
            .ToList();
    }

    private static Task<List<ExceptionApprovalRow>> GivenAsync(TenantUnitOfWork unitOfWork, Guid exceptionId, CancellationToken cancellationToken) =>
        unitOfWork.Db.GetTable<ExceptionApprovalRow>()
            .Where(row => row.ExceptionId == exceptionId)
            .OrderBy(row => row.ApprovedAt)
            .ToListAsync(cancellationToken);

    /// <summary>
    /// The tenant's people by id with a name to show: the display name, else "user" and the start of the id, as the queue's
    /// assignee (e-mail addresses are stored sealed and are not opened for a list of names).
    /// </summary>
    public static async Task<Dictionary<Guid, Person>> PeopleAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        (await unitOfWork.Db.GetTable<UserRow>().ToListAsync(cancellationToken))
        .Select(user => new Person(user.Id, user.DisplayName != "" ? user.DisplayName : $"user {user.Id.ToString()[..8]}", user.Role, user.DisabledAt))
        .ToDictionary(person => person.Id);

    public sealed record Person(Guid Id, string Name, string Role, DateTime? DisabledAt);

    public static async Task<IReadOnlyList<DelegationView>> DelegationsAsync(
        TenantUnitOfWork unitOfWork, Guid? involving, CancellationToken cancellationToken)
    {
        var people = await PeopleAsync(unitOfWork, cancellationToken);
        var rows = await unitOfWork.Db.GetTable<DelegationRow>()
            .Where(row => involving == null || row.DelegatorId == involving || row.DelegateId == involving)
            .OrderByDescending(row => row.StartsAt)
            .ToListAsync(cancellationToken);
        return rows.Select(row => ToView(row, people)).ToList();
    }

    public static async Task<DelegationView> CreateDelegationAsync(
        TenantUnitOfWork unitOfWork, Caller caller, Guid delegatorId, Guid delegateId, DateTimeOffset startsAt, DateTimeOffset endsAt, string reason,
        string? requestId, CancellationToken cancellationToken)
    {
        var people = await PeopleAsync(unitOfWork, cancellationToken);
        var violations = new List<FieldViolation>();
        if (!people.TryGetValue(delegatorId, out var delegator) || delegator.DisabledAt is not null)
        {
            violations.Add(new FieldViolation("delegator_id", "is not an active user of your organisation"));
        }

        if (!people.TryGetValue(delegateId, out var @delegate) || @delegate.DisabledAt is not null)
        {
            violations.Add(new FieldViolation("delegate_id", "is not an active user of your organisation"));
        }
        else if (@delegate.Role is not (ApprovalRule.ApproverRole or ApprovalRule.AdminRole))
        {
            violations.Add(new FieldViolation("delegate_id", "must be an approver or an admin"));
        }

        if (delegatorId == delegateId)
        {
            violations.Add(new FieldViolation("delegate_id", "must be someone else"));
        }

        if (endsAt <= startsAt)
        {
            violations.Add(new FieldViolation("ends_at", "must be after starts_at"));
        }

        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The delegation cannot be saved.", violations);
        }

        var row = new DelegationRow
        {
            Id = Guid.NewGuid(),
            TenantId = unitOfWork.TenantId,
            DelegatorId = delegatorId,
            DelegateId = delegateId,
            StartsAt = startsAt.UtcDateTime,
            EndsAt = endsAt.UtcDateTime,
            Reason = reason,
            CreatedBy = caller.AuditActor,
        };
        await unitOfWork.Db.InsertAsync(row, token: cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "approvals.delegation_created", "approval_delegation", row.Id.ToString(),
            null, new { delegatorId, delegateId, startsAt, endsAt, reason }, requestId, cancellationToken);
        return ToView(row, people);
    }

    public static async Task<DelegationView> RevokeDelegationAsync(
        TenantUnitOfWork unitOfWork, Caller caller, Guid delegationId, DateTimeOffset now, string? requestId, CancellationToken cancellationToken)
    {
        var row = await unitOfWork.Db.GetTable<DelegationRow>().Where(delegation => delegation.Id == delegationId).FirstOrDefaultAsync(cancellationToken);
        if (row is null || (caller.Role != ApprovalRule.AdminRole && row.DelegatorId != caller.UserId && row.DelegateId != caller.UserId))
        {
            throw DomainException.WithReason(ErrorKind.NotFound, $"No delegation {delegationId}.", "DELEGATION_NOT_FOUND", ExceptionQueue.ErrorDomain);
        }

        if (row.RevokedAt is null)
        {
            row.RevokedAt = now.UtcDateTime;
            await unitOfWork.Db.GetTable<DelegationRow>()
                .Where(delegation => delegation.Id == delegationId)
                .Set(delegation => delegation.RevokedAt, row.RevokedAt)
                .UpdateAsync(cancellationToken);
            await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "approvals.delegation_revoked", "approval_delegation", row.Id.ToString(),
                new { revoked = false }, new { revoked = true }, requestId, cancellationToken);
        }

        return ToView(row, await PeopleAsync(unitOfWork, cancellationToken));
    }

    private static DelegationView ToView(DelegationRow row, Dictionary<Guid, Person> people) => new(
        row.Id, row.DelegatorId, people.TryGetValue(row.DelegatorId, out var delegator) ? delegator.Name : "",
        row.DelegateId, people.TryGetValue(row.DelegateId, out var @delegate) ? @delegate.Name : "",
        row.StartsAt, row.EndsAt, row.Reason, row.RevokedAt is not null);

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    [Table("tenants")]
    private sealed class TenantPolicyRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("default_currency")] public string DefaultCurrency { get; set; } = "";

        [Column("four_eyes")] public bool FourEyes { get; set; }
    }

    [Table("users")]
    private sealed class UserRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("display_name")] public string DisplayName { get; set; } = "";

        [Column("role")] public string Role { get; set; } = "";

        [Column("disabled_at")] public DateTime? DisabledAt { get; set; }
    }

    [Table("approval_rules")]
    private sealed class ApprovalRuleRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("tenant_id")] public Guid TenantId { get; set; }

        [Column("position")] public int Position { get; set; }

        [Column("name")] public string Name { get; set; } = "";

        [Column("min_amount")] public decimal? MinAmount { get; set; }

        [Column("max_amount")] public decimal? MaxAmount { get; set; }

        [Column("currency")] public string? Currency { get; set; }

        [Column("vendor_codes")] public string[] VendorCodes { get; set; } = [];

        [Column("reasons")] public string[] Reasons { get; set; } = [];

        [Column("required_approvals")] public int RequiredApprovals { get; set; }

        [Column("approver_roles")] public string[] ApproverRoles { get; set; } = [];

        [Column("named_approvers")] public Guid[] NamedApprovers { get; set; } = [];

        [Column("required_role")] public string? RequiredRole { get; set; }

        [Column("updated_by")] public string UpdatedBy { get; set; } = "";

        public ApprovalRule ToRule() => new(
            Name, MinAmount, MaxAmount, Currency?.Trim(), VendorCodes, Reasons, RequiredApprovals, ApproverRoles, NamedApprovers, RequiredRole);

        public static ApprovalRuleRow From(Guid tenantId, int position, ApprovalRule rule, string updatedBy) => new()
        {
            Id = Guid.NewGuid(),
            TenantId = tenantId,
            Position = position,
            Name = rule.Name,
            MinAmount = rule.MinAmount,
            MaxAmount = rule.MaxAmount,
            Currency = rule.Currency,
            VendorCodes = [.. rule.VendorCodes],
            Reasons = [.. rule.Reasons],
            RequiredApprovals = rule.RequiredApprovals,
            ApproverRoles = [.. rule.ApproverRoles],
            NamedApprovers = [.. rule.NamedApprovers],
            RequiredRole = rule.RequiredRole,
            UpdatedBy = updatedBy,
        };
    }

    [Table("exchange_rates")]
    private sealed class ExchangeRateRow
    {
        [Column("tenant_id"), PrimaryKey] public Guid TenantId { get; set; }

        [Column("currency"), PrimaryKey] public string Currency { get; set; } = "";

        [Column("valid_from"), PrimaryKey] public DateOnly ValidFrom { get; set; }

        [Column("rate")] public decimal Rate { get; set; }
    }

    [Table("exception_approvals")]
    private sealed class ExceptionApprovalRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("tenant_id")] public Guid TenantId { get; set; }

        [Column("exception_id")] public Guid ExceptionId { get; set; }

        [Column("approver_id")] public Guid ApproverId { get; set; }

        [Column("principal_id")] public Guid PrincipalId { get; set; }

        [Column("principal_role")] public string PrincipalRole { get; set; } = "";

        [Column("rule_name")] public string RuleName { get; set; } = "";

        [Column("comment")] public string Comment { get; set; } = "";

        [Column("approved_at")] public DateTime ApprovedAt { get; set; }
    }

    [Table("approval_delegations")]
    private sealed class DelegationRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("tenant_id")] public Guid TenantId { get; set; }

        [Column("delegator_id")] public Guid DelegatorId { get; set; }

        [Column("delegate_id")] public Guid DelegateId { get; set; }

        [Column("starts_at")] public DateTime StartsAt { get; set; }

        [Column("ends_at")] public DateTime EndsAt { get; set; }

        [Column("reason")] public string Reason { get; set; } = "";

        [Column("created_by")] public string CreatedBy { get; set; } = "";

        [Column("revoked_at")] public DateTime? RevokedAt { get; set; }
    }
}
