using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Invisible.Contracts.Exceptions.V1;
using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;
using Domain = Invisible.Reconciliation.Approvals;

namespace Invisible.Server.Exceptions;

/// <summary>
/// The gRPC face of approval policies (protos/invisible/exceptions/v1/approvals.proto): every role reads the rules (the
/// queue explains them), admins change and preview them; approvers and admins delegate their approvals.
/// </summary>
public sealed class ApprovalServiceHandler(TenantDatabase tenants, TimeProvider time) : ApprovalService.ApprovalServiceBase
{
    private const int PreviewExamples = 20;
    private const int MaxRules = 50;
    private const int MaxRates = 500;

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ApprovalRules> GetApprovalRules(GetApprovalRulesRequest request, ServerCallContext context)
    {
        await using var unitOfWork = await tenants.BeginAsync(context.Caller().TenantId, context.CancellationToken);
        return ToContract(await ApprovalStore.LoadAsync(unitOfWork, context.CancellationToken));
    }

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<ApprovalRules> SetApprovalRules(SetApprovalRulesRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, context.CancellationToken);
        var current = await ApprovalStore.LoadAsync(unitOfWork, context.CancellationToken);
        var policy = Parse(request.Rules, request.FourEyes, request.ExchangeRates, current.TenantCurrency);
        await ApprovalStore.SaveAsync(unitOfWork, caller, policy, context.RequestId(), context.CancellationToken);
        var saved = await ApprovalStore.LoadAsync(unitOfWork, context.CancellationToken);
        await unitOfWork.CommitAsync(context.CancellationToken);
        return ToContract(saved);
    }

    /// <summary>Each open exception under the draft's first rule that catches it (the default last), with the first few of each.</summary>
    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<PreviewApprovalRulesResponse> PreviewApprovalRules(PreviewApprovalRulesRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, context.CancellationToken);
        var current = await ApprovalStore.LoadAsync(unitOfWork, context.CancellationToken);
        var engine = Parse(request.Rules, request.FourEyes, request.ExchangeRates, current.TenantCurrency).Engine;
        var open = await ExceptionQueries.ListAsync(
            unitOfWork, new ExceptionFilter([], null, null, null, null, null, null, ExceptionOrder.AmountDescending, time.GetUtcNow()), 0, int.MaxValue,
            context.CancellationToken);
        var catches = engine.Rules.Select((rule, position) => new RuleCatch { Position = position, RuleName = rule.Name }).ToList();
        var fallback = new RuleCatch { Position = -1, RuleName = Domain.ApprovalRule.Default.Name };
        foreach (var item in open.Items)
        {
            var match = engine.Match(new Domain.ApprovalSubject(
                item.Invoice.InvoiceTotal, item.Invoice.Currency.Trim(), item.Invoice.InvoiceDate, item.Invoice.VendorCode, ApprovalStore.Reasons(item.Reason), null));
            var bucket = match.Position is { } position ? catches[position] : fallback;
            bucket.Count++;
            if (bucket.Examples.Count < PreviewExamples)
            {
                bucket.Examples.Add(new PreviewedException
                {
                    ExceptionId = item.Id.ToString(),
                    InvoiceNumber = item.Invoice.InvoiceNumber,
                    VendorCode = item.Invoice.VendorCode ?? "",
                    Amount = item.Invoice.InvoiceTotal.ToString(CultureInfo.InvariantCulture),
                    Currency = item.Invoice.Currency.Trim(),
                    Reason = item.Reason,
                    Why = match.Why,
                });
            }
        }

        var response = new PreviewApprovalRulesResponse();
        response.Rules.AddRange(catches);
        response.Rules.Add(fallback);
        return response;
    }

    [Authorize(Policy = AccessPolicies.Approver)]
    public override async Task<ListDelegationsResponse> ListDelegations(ListDelegationsRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, context.CancellationToken);
        var delegations = await ApprovalStore.DelegationsAsync(
            unitOfWork, caller.Role == Domain.ApprovalRule.AdminRole ? null : caller.UserId, context.CancellationToken);
        var response = new ListDelegationsResponse();
        response.Delegations.AddRange(delegations.Select(ToContract));
        response.Candidates.AddRange((await ApprovalStore.PeopleAsync(unitOfWork, context.CancellationToken)).Values
            .Where(person => person.DisabledAt is null && person.Id != caller.UserId
                && person.Role is Domain.ApprovalRule.ApproverRole or Domain.ApprovalRule.AdminRole)
            .OrderBy(person => person.Name, StringComparer.OrdinalIgnoreCase)
            .Select(person => new DelegateCandidate { UserId = person.Id.ToString(), Name = person.Name, Role = person.Role }));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Approver)]
    public override async Task<Contracts.Exceptions.V1.Delegation> CreateDelegation(CreateDelegationRequest request, ServerCallContext context)
    {
        var caller = PersonOnly(context.Caller());
        var delegatorId = request.DelegatorId.Length == 0 ? caller.UserId : RequestFields.ParseId(request.DelegatorId, "delegator_id", "must be a user id, or empty for yourself");
        if (delegatorId != caller.UserId && caller.Role != Domain.ApprovalRule.AdminRole)
        {
            throw DomainException.WithReason(
                ErrorKind.PermissionDenied, "Only admins may delegate someone else's approvals.", "ROLE_NOT_PERMITTED", ExceptionQueue.ErrorDomain);
        }

        var delegateId = RequestFields.ParseId(request.DelegateId, "delegate_id", "must be the id of an approver or admin");
        if (request.EndsAt is null)
        {
            throw DomainException.InvalidArgument("Say when the delegation ends.", new FieldViolation("ends_at", "must be set"));
        }

        var startsAt = request.StartsAt?.ToDateTimeOffset() ?? time.GetUtcNow();
        var reason = request.Reason.Trim();
        if (reason.Length > 500)
        {
            throw DomainException.InvalidArgument("The reason is too long.", new FieldViolation("reason", "at most 500 characters"));
        }

        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, context.CancellationToken);
        var created = await ApprovalStore.CreateDelegationAsync(
            unitOfWork, caller, delegatorId, delegateId, startsAt, request.EndsAt.ToDateTimeOffset(), reason, context.RequestId(), context.CancellationToken);
        await unitOfWork.CommitAsync(context.CancellationToken);
        return ToContract(created);
    }

    [Authorize(Policy = AccessPolicies.Approver)]
    public override async Task<Contracts.Exceptions.V1.Delegation> RevokeDelegation(RevokeDelegationRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var delegationId = RequestFields.ParseId(request.DelegationId, "delegation_id", "must be an id returned by ListDelegations");
        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, context.CancellationToken);
        var revoked = await ApprovalStore.RevokeDelegationAsync(unitOfWork, caller, delegationId, time.GetUtcNow(), context.RequestId(), context.CancellationToken);
        await unitOfWork.CommitAsync(context.CancellationToken);
        return ToContract(revoked);
    }

    /// <summary>Delegation is between people: an API key has no approvals of its own to hand over.</summary>
    private static Caller PersonOnly(Caller caller) => caller.Kind == CallerKind.User
        ? caller
        : throw DomainException.WithReason(ErrorKind.PermissionDenied, "Delegations are made by people, not API keys.", "PEOPLE_ONLY", ExceptionQueue.ErrorDomain);

    /// <summary>A draft policy from the request, every bad field reported together.</summary>
    private static SavedApprovalPolicy Parse(
        Google.Protobuf.Collections.RepeatedField<Contracts.Exceptions.V1.ApprovalRule> rules, bool fourEyes, Google.Protobuf.Collections.RepeatedField<Contracts.Exceptions.V1.ExchangeRate> rates, string tenantCurrency)
    {
        var violations = new List<FieldViolation>();
        if (rules.Count > MaxRules)
        {
            violations.Add(new FieldViolation("rules", $"at most {MaxRules} rules"));
        }

        if (rates.Count > MaxRates)
        {
            violations.Add(new FieldViolation("exchange_rates", $"at most {MaxRates} rates"));
        }

        var parsedRules = rules.Select((rule, index) =>
        {
            var prefix = $"rules[{index}]";
            var parsed = new Domain.ApprovalRule(
                rule.Name.Trim(),
                Amount(rule.MinAmount, $"{prefix}.min_amount", violations),
                Amount(rule.MaxAmount, $"{prefix}.max_amount", violations),
                rule.Currency.Trim().Length == 0 ? null : rule.Currency.Trim(),
                rule.VendorCodes.Select(code => code.Trim()).Where(code => code.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
                rule.Reasons.Select(reason => reason.Trim()).Where(reason => reason.Length > 0).Distinct(StringComparer.Ordinal).ToList(),
                rule.RequiredApprovals,
                rule.ApproverRoles.Select(role => role.Trim()).Distinct(StringComparer.Ordinal).ToList(),
                rule.NamedApproverIds.Select((id, position) => Guid.TryParse(id, out var userId) ? userId : Invalid<Guid>(
                    violations, $"{prefix}.named_approver_ids[{position}]", "must be a user id")).ToList(),
                rule.RequiredRole.Trim().Length == 0 ? null : rule.RequiredRole.Trim());
            violations.AddRange(parsed.Problems().Select(problem => new FieldViolation($"{prefix}.{problem.Field}", problem.Problem)));
            return parsed;
        }).ToList();
        var parsedRates = rates.Select((rate, index) =>
        {
            var prefix = $"exchange_rates[{index}]";
            var currency = rate.Currency.Trim();
            if (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper) || currency == tenantCurrency)
            {
                violations.Add(new FieldViolation($"{prefix}.currency", $"must be a three-letter ISO code other than {tenantCurrency}"));
            }

            var validFrom = DateOnly.TryParseExact(rate.ValidFrom.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
                ? day
                : Invalid<DateOnly>(violations, $"{prefix}.valid_from", "must be a date such as 2026-01-31");
            var value = Amount(rate.Rate, $"{prefix}.rate", violations);
            if (value is not > 0)
            {
                violations.Add(new FieldViolation($"{prefix}.rate", $"must be a positive decimal: {tenantCurrency} per unit of {currency}"));
            }

            return new Domain.ExchangeRate(currency, validFrom, value ?? 0);
        }).ToList();
        if (parsedRates.GroupBy(rate => (rate.Currency, rate.ValidFrom)).Any(group => group.Count() > 1))
        {
            violations.Add(new FieldViolation("exchange_rates", "one rate per currency and day"));
        }

        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The approval policy cannot be saved as it is.", violations);
        }

        return new SavedApprovalPolicy(parsedRules, fourEyes, parsedRates, tenantCurrency);
    }

    private static decimal? Amount(string value, string field, List<FieldViolation> violations) =>
        value.Trim().Length == 0 ? null
        : decimal.TryParse(value.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) ? amount
        : Invalid<decimal?>(violations, field, "must be a decimal such as \"10000.00\"");

    private static T Invalid<T>(List<FieldViolation> violations, string field, string description)
    {
        violations.Add(new FieldViolation(field, description));
        return default!;
    }

    private static ApprovalRules ToContract(SavedApprovalPolicy policy)
    {
        var contract = new ApprovalRules { FourEyes = policy.FourEyes, TenantCurrency = policy.TenantCurrency };
        contract.Rules.AddRange(policy.Rules.Select(rule =>
        {
            var message = new Contracts.Exceptions.V1.ApprovalRule
            {
                Name = rule.Name,
                MinAmount = Decimal(rule.MinAmount),
                MaxAmount = Decimal(rule.MaxAmount),
                Currency = rule.Currency ?? "",
                RequiredApprovals = rule.RequiredApprovals,
                RequiredRole = rule.RequiredRole ?? "",
            };
            message.VendorCodes.AddRange(rule.VendorCodes);
            message.Reasons.AddRange(rule.Reasons);
            message.ApproverRoles.AddRange(rule.ApproverRoles);
            message.NamedApproverIds.AddRange(rule.NamedApprovers.Select(id => id.ToString()));
            return message;
        }));
        contract.ExchangeRates.AddRange(policy.Rates.Select(rate => new Contracts.Exceptions.V1.ExchangeRate
        {
            Currency = rate.Currency,
            ValidFrom = rate.ValidFrom.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Rate = rate.Rate.ToString(CultureInfo.InvariantCulture),
        }));
        return contract;
    }

    private static string Decimal(decimal? value) => value is { } amount ? (amount / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture) : "";

    private Contracts.Exceptions.V1.Delegation ToContract(DelegationView view)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new Contracts.Exceptions.V1.Delegation
        {
            Id = view.Id.ToString(),
            DelegatorId = view.DelegatorId.ToString(),
            DelegatorName = view.DelegatorName,
            DelegateId = view.DelegateId.ToString(),
            DelegateName = view.DelegateName,
            StartsAt = Timestamp.FromDateTime(DateTime.SpecifyKind(view.StartsAt, DateTimeKind.Utc)),
            EndsAt = Timestamp.FromDateTime(DateTime.SpecifyKind(view.EndsAt, DateTimeKind.Utc)),
            Reason = view.Reason,
            Revoked = view.Revoked,
            Active = !view.Revoked && view.StartsAt <= now && now < view.EndsAt,
        };
    }

    /// <summary>An exception's approval progress as the contract shows it.</summary>
    internal static Contracts.Exceptions.V1.ApprovalProgress ToContract(ApprovalProgressView view)
    {
        var rule = view.Progress.Match.Rule;
        var contract = new Contracts.Exceptions.V1.ApprovalProgress
        {
            RuleName = rule.Name,
            RequiredApprovals = rule.RequiredApprovals,
            Remaining = view.Progress.Remaining,
            RequiredRole = rule.RequiredRole ?? "",
            RequiredRoleMissing = view.Progress.RequiredRoleMissing,
            Summary = view.Progress.Summary,
        };
        contract.Approvals.AddRange(view.Approvals.Select(approval => new Contracts.Exceptions.V1.GivenApproval
        {
            ApproverId = approval.ApproverId.ToString(),
            ApproverName = approval.ApproverName,
            OnBehalfOfId = approval.OnBehalfOfId?.ToString() ?? "",
            OnBehalfOfName = approval.OnBehalfOfName ?? "",
            ApprovedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(approval.ApprovedAt, DateTimeKind.Utc)),
            Comment = approval.Comment,
        }));
        contract.EligibleApproverNames.AddRange(view.EligibleApproverNames);
        return contract;
    }
}
