using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Invisible.Contracts.Intake.V1;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Intake;

/// <summary>
/// <c>invisible.intake.v1.IntakeService</c>: the intake log (every role reads it), releasing or discarding held messages
/// (clerks), and the tenant's addresses and allowlist (admins change them).
/// </summary>
public sealed partial class IntakeServiceHandler(IntakeQueries queries, EmailIntake intake, IServiceProvider services)
    : IntakeService.IntakeServiceBase
{
    public const string ErrorDomain = "intake.invisible.app";
    private const int MaxPageSize = 200;
    private static readonly string[] Statuses =
        [MessageStatus.Processing, MessageStatus.Processed, MessageStatus.Held, MessageStatus.Released, MessageStatus.Discarded, MessageStatus.Duplicate];

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ListMessagesResponse> ListMessages(ListMessagesRequest request, ServerCallContext context)
    {
        var violations = new List<FieldViolation>();
        var pageSize = RequestFields.PageSize(request.PageSize, MaxPageSize, violations);
        var before = RequestFields.ParseSequenceToken(request.PageToken, violations);
        if (request.Status.Length > 0 && !Statuses.Contains(request.Status))
        {
            violations.Add(new FieldViolation("status", $"must be empty or one of {string.Join(", ", Statuses)}"));
        }

        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The intake list request is not valid.", violations);
        }

        var page = await queries.ListAsync(context.Caller().TenantId, request.Status, before, pageSize, context.CancellationToken);
        var response = new ListMessagesResponse
        {
            NextPageToken = page.HasMore ? RequestFields.SequenceToken(page.Messages[^1].Message.MessageNo) : string.Empty,
            HeldCount = (int)Math.Min(page.HeldCount, int.MaxValue),
            ToKeyCount = (int)Math.Min(page.ToKeyCount, int.MaxValue),
        };
        response.Messages.AddRange(page.Messages.Select(ToMessage));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<IntakeMessage> GetMessage(GetMessageRequest request, ServerCallContext context) =>
        ToMessage(await FindAsync(context, RequestFields.ParseId(request.MessageId, "message_id")));

    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<IntakeMessage> ReleaseMessage(DecideMessageRequest request, ServerCallContext context)
    {
        var id = RequestFields.ParseId(request.MessageId, "message_id");
        var caller = context.Caller();
        if (await intake.ReleaseAsync(caller.TenantId, id, caller.UserId.ToString(), context.CancellationToken) is null)
        {
            await FindAsync(context, id);
            throw NotHeld();
        }

        return ToMessage(await FindAsync(context, id));
    }

    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<IntakeMessage> DiscardMessage(DecideMessageRequest request, ServerCallContext context)
    {
        var id = RequestFields.ParseId(request.MessageId, "message_id");
        var caller = context.Caller();
        if (!await intake.DiscardAsync(caller.TenantId, id, caller.UserId.ToString(), context.RequestId(), context.CancellationToken))
        {
            await FindAsync(context, id);
            throw NotHeld();
        }

        return ToMessage(await FindAsync(context, id));
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<IntakeSettings> GetIntakeSettings(GetIntakeSettingsRequest request, ServerCallContext context) =>
        await SettingsAsync(context);

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<IntakeSettings> AddAddress(AddAddressRequest request, ServerCallContext context)
    {
        var address = request.Address.Trim().ToLowerInvariant();
        if (!AddressPattern().IsMatch(address) || address.Length > 320)
        {
            throw DomainException.InvalidArgument("The address is not valid.", new FieldViolation("address", "must be an e-mail address such as invoices@example.com"));
        }

        var caller = context.Caller();
        try
        {
            await queries.AddAddressAsync(caller.TenantId, address, caller.UserId.ToString(), context.RequestId(), context.CancellationToken);
        }
        catch (IntakeAddressTakenException)
        {
            throw DomainException.WithReason(ErrorKind.AlreadyExists, $"{address} already receives for a tenant.", "INTAKE_ADDRESS_TAKEN", ErrorDomain);
        }

        return await SettingsAsync(context);
    }

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<IntakeSettings> AddAllowlistEntry(AddAllowlistEntryRequest request, ServerCallContext context)
    {
        var entry = request.Entry.Trim().ToLowerInvariant();
        if (!(AddressPattern().IsMatch(entry) || DomainEntryPattern().IsMatch(entry)) || entry.Length > 320)
        {
            throw DomainException.InvalidArgument("The allowlist entry is not valid.",
                new FieldViolation("entry", "must be an address (ap@vendor.example) or a whole domain (@vendor.example)"));
        }

        var caller = context.Caller();
        await queries.AddAllowlistEntryAsync(caller.TenantId, entry, caller.UserId.ToString(), context.RequestId(), context.CancellationToken);
        return await SettingsAsync(context);
    }

    private async Task<IntakeSettings> SettingsAsync(ServerCallContext context)
    {
        var view = await queries.SettingsAsync(context.Caller().TenantId, context.CancellationToken);
        var settings = new IntakeSettings
        {
            PrimaryAddress = view.PrimaryAddress,
            SmtpEndpoint = services.GetService<SmtpIntakeListener>()?.BoundEndpoint?.ToString() ?? string.Empty,
        };
        settings.Aliases.AddRange(view.Aliases);
        settings.Allowlist.AddRange(view.Allowlist);
        return settings;
    }

    private async Task<IntakeMessageView> FindAsync(ServerCallContext context, Guid id) =>
        await queries.FindAsync(context.Caller().TenantId, id, context.CancellationToken)
        ?? throw DomainException.WithReason(ErrorKind.NotFound, "There is no such message in the intake log.", "INTAKE_MESSAGE_NOT_FOUND", ErrorDomain);

    private static DomainException NotHeld() =>
        DomainException.WithReason(ErrorKind.FailedPrecondition, "Only a held message can be released or discarded.", "INTAKE_MESSAGE_NOT_HELD", ErrorDomain);

    internal static IntakeMessage ToMessage(IntakeMessageView view)
    {
        var m = view.Message;
        var message = new IntakeMessage
        {
            Id = m.Id.ToString(),
            MessageNo = m.MessageNo,
            Source = m.Source,
            MessageId = m.MessageId ?? string.Empty,
            From = m.FromAddress,
            Subject = m.Subject,
            ReceivedAt = Timestamp.FromDateTimeOffset(m.ReceivedAt),
            SizeBytes = m.SizeBytes,
            Status = m.Status,
            Trust = m.Trust,
            DuplicateOf = m.DuplicateOf?.ToString() ?? string.Empty,
            DecidedBy = m.DecidedBy ?? string.Empty,
        };
        message.To.AddRange(m.ToAddresses);
        message.Attachments.AddRange(view.Attachments.Select(a => new IntakeAttachment
        {
            Path = a.Path,
            FileName = a.FileName,
            ContentType = a.ContentType,
            SizeBytes = a.SizeBytes,
            Outcome = a.Outcome,
            ImportId = a.ImportId?.ToString() ?? string.Empty,
            ImportNo = a.ImportNo ?? 0,
            Note = a.Note ?? string.Empty,
        }));
        return message;
    }

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@localhost$|^[^@\s]+@[a-z0-9-]+\.localhost$")]
    private static partial Regex AddressPattern();

    [GeneratedRegex(@"^@[^@\s]+$")]
    private static partial Regex DomainEntryPattern();
}
