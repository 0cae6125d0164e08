using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Contracts.Events.V1;
using Invisible.Contracts.Exceptions.V1;
using Invisible.Contracts.Notifications.V1;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Platform.Events;
using Invisible.Server.Imports;
using Invisible.Server.Notifications;
using Invisible.Server.QuickBooks;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;
using LinqToDB.Data;
using Microsoft.Extensions.DependencyInjection;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Notifications;

/// <summary>
/// Notifications end to end against the running product: the event goes through the outbox, the subscriber tells people,
/// and the e-mails are read back from the embedded mail folder.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class NotificationTests(AccountsServer server)
{
    private static readonly Google.Protobuf.Reflection.MethodDescriptor Unsubscribe =
        NotificationsReflection.Descriptor.Services[0].FindMethodByName("Unsubscribe");

    private async Task<(QueueTenant Queue, ExceptionItem Item)> ExceptionAsync(string invoiceNumber = "N-1")
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,W-1,Widget,100,1.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,100\n");
        await queue.ImportAsync(DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\n{invoiceNumber},Acme Supplies,2026-01-12,GBP,PO-1,1,W-1,Widget,100,1.50,150.00,150.00\n");
        await queue.ReconcileAsync();
        return (queue, await queue.OpenExceptionOfAsync(invoiceNumber));
    }

    private static async Task<TestUser> PersonAsync(QueueTenant queue, string role) =>
        await queue.Tenant.AddUserAsync(role);

    private static async Task<Guid> IdOfAsync(QueueTenant queue, TestUser user) =>
        await queue.QuerySingleAsync<Guid>("select id from users where email_index = @email", new { email = queue.Tenant.EmailIndexOf(user.Email) });

    private async Task<RpcReply> NotificationsAsync(QueueTenant queue, TestUser user, string method, Google.Protobuf.IMessage request) =>
        await queue.Tenant.CallAsync(
            NotificationsReflection.Descriptor.Services[0].FindMethodByName(method), request, (await queue.Tenant.FullSessionAsync(user)).AccessToken);

    [Fact]
    public async Task Assigning_an_exception_emails_the_assignee_a_message_that_links_to_the_item_and_can_turn_such_emails_off_without_signing_in()
    {
        var (queue, item) = await ExceptionAsync();
        var assignee = await PersonAsync(queue, Roles.Approver);
        await queue.ExceptionsAsync("AssignException", new AssignExceptionRequest { ExceptionId = item.Id, UserId = (await IdOfAsync(queue, assignee)).ToString() });

        var mail = await NotificationMail.EventuallyAsync(server, assignee.Email, "Exception assigned to you");
        var unsubscribed = await queue.Tenant.CallAsync(Unsubscribe, new UnsubscribeRequest { Token = NotificationMail.UnsubscribeToken(mail) });
        var preferences = (await NotificationsAsync(queue, assignee, "GetNotificationPreferences", new GetNotificationPreferencesRequest()))
            .As<NotificationPreferences>().Preferences.Single(preference => preference.Kind == NotificationKinds.ExceptionAssigned);

        Assert.Equal(
            ("Exception assigned to you: invoice N-1 (V1)", true, true, StatusCode.OK, false, true),
            (mail.Subject, Regex.IsMatch(mail.TextBody!, $@"http://[^\s/]+/exceptions\?item={item.Id}"),
                Regex.IsMatch(mail.HtmlBody!, $@"href=""http://[^\s/""]+/exceptions\?item={item.Id}"""),
                unsubscribed.Status, preferences.Email, preferences.InApp));
    }

    [Fact]
    public async Task A_forged_unsubscribe_token_is_refused()
    {
        var queue = await QueueTenant.CreateAsync(server);

        var refused = await queue.Tenant.CallAsync(Unsubscribe, new UnsubscribeRequest { Token = "eyJhIjoxfQ.AAAA" });

        Assert.Equal((StatusCode.InvalidArgument, "INVALID_UNSUBSCRIBE_LINK"), (refused.Status, refused.Reason));
    }

    [Fact]
    public async Task The_assignee_finds_the_assignment_in_their_in_app_notifications_and_nobody_else_does()
    {
        var (queue, item) = await ExceptionAsync();
        var assignee = await PersonAsync(queue, Roles.Approver);
        var colleague = await PersonAsync(queue, Roles.Clerk);
        await queue.ExceptionsAsync("AssignException", new AssignExceptionRequest { ExceptionId = item.Id, UserId = (await IdOfAsync(queue, assignee)).ToString() });
        await NotificationMail.EventuallyAsync(server, assignee.Email, "Exception assigned to you");

        var mine = (await NotificationsAsync(queue, assignee, "ListNotifications", new ListNotificationsRequest())).As<ListNotificationsResponse>();
        var theirs = (await NotificationsAsync(queue, colleague, "ListNotifications", new ListNotificationsRequest())).As<ListNotificationsResponse>();

        Assert.Equal(
            (1, $"/exceptions?item={item.Id}", 0),
            (mine.UnreadCount, mine.Notifications.Single().Link, theirs.Notifications.Count));
    }

    [Fact]
    public async Task The_live_stream_carries_an_in_app_notification_to_its_person_only()
    {
        var (queue, first) = await ExceptionAsync();
        await queue.ImportAsync(DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\nN-2,Acme Supplies,2026-01-13,GBP,PO-1,1,W-1,Widget,100,1.60,160.00,160.00\n");
        await queue.ReconcileAsync();
        var second = await queue.OpenExceptionOfAsync("N-2");
        var assignee = await PersonAsync(queue, Roles.Approver);
        var colleague = await PersonAsync(queue, Roles.Approver);
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        var client = new EventService.EventServiceClient(channel);
        var watch = new WatchRequest { Topics = { NotificationCreated.Topic } };
        using var assigneeStream = client.Watch(watch, Bearer((await queue.Tenant.FullSessionAsync(assignee)).AccessToken), DateTime.UtcNow.AddSeconds(60));
        using var colleagueStream = client.Watch(watch, Bearer((await queue.Tenant.FullSessionAsync(colleague)).AccessToken), DateTime.UtcNow.AddSeconds(60));
        await assigneeStream.ResponseStream.MoveNext(CancellationToken.None);
        await colleagueStream.ResponseStream.MoveNext(CancellationToken.None);

        await queue.ExceptionsAsync("AssignException", new AssignExceptionRequest { ExceptionId = first.Id, UserId = (await IdOfAsync(queue, assignee)).ToString() });
        await assigneeStream.ResponseStream.MoveNext(CancellationToken.None);
        var toAssignee = assigneeStream.ResponseStream.Current.PayloadJson;
        // Events arrive in commit order: if the assignee's notification reached the colleague, it would come before theirs.
        await queue.ExceptionsAsync("AssignException", new AssignExceptionRequest { ExceptionId = second.Id, UserId = (await IdOfAsync(queue, colleague)).ToString() });
        await colleagueStream.ResponseStream.MoveNext(CancellationToken.None);
        var firstToColleague = colleagueStream.ResponseStream.Current.PayloadJson;

        Assert.Equal(
            (true, true),
            (NotificationCreated.IsFor(toAssignee, await IdOfAsync(queue, assignee)), NotificationCreated.IsFor(firstToColleague, await IdOfAsync(queue, colleague))));
    }

    private static Metadata Bearer(string token) => new() { { "authorization", $"Bearer {token}" } };

    [Fact]
    public async Task With_assignment_emails_turned_off_the_assignee_is_told_in_the_app_only()
    {
        var (queue, item) = await ExceptionAsync();
        var assignee = await PersonAsync(queue, Roles.Approver);
        await NotificationsAsync(queue, assignee, "SetNotificationPreferences", new SetNotificationPreferencesRequest
        {
            Preferences = { new Contracts.Notifications.V1.NotificationPreference { Kind = NotificationKinds.ExceptionAssigned, Email = false, InApp = true, Digest = true } },
        });
        await queue.ExceptionsAsync("AssignException", new AssignExceptionRequest { ExceptionId = item.Id, UserId = (await IdOfAsync(queue, assignee)).ToString() });

        await QueueTenant.EventuallyAsync(
            async () => (await NotificationsAsync(queue, assignee, "ListNotifications", new ListNotificationsRequest())).As<ListNotificationsResponse>().UnreadCount == 1,
            "the in-app notification");

        Assert.Empty(NotificationMail.To(server, assignee.Email));
    }

    [Fact]
    public async Task After_a_first_approval_the_admin_the_rule_still_needs_is_emailed_that_an_approval_waits_for_them()
    {
        var (queue, item) = await ExceptionAsync();
        await queue.ApprovalsAsync("SetApprovalRules", new SetApprovalRulesRequest
        {
            Rules = { new ApprovalRule { Name = "Two with an admin", RequiredApprovals = 2, RequiredRole = Roles.Admin } },
        });
        await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = "looks right" }, Roles.Approver);

        var mail = await NotificationMail.EventuallyAsync(server, queue.Tenant.Admin.Email, "Approval waiting for you");

        Assert.Contains("1 more approval, one of them from an admin", mail.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task While_an_admin_has_delegated_their_approvals_the_delegate_is_asked_instead()
    {
        var (queue, item) = await ExceptionAsync();
        await queue.ApprovalsAsync("SetApprovalRules", new SetApprovalRulesRequest
        {
            Rules = { new ApprovalRule { Name = "Two with an admin", RequiredApprovals = 2, RequiredRole = Roles.Admin } },
        });
        var standIn = await PersonAsync(queue, Roles.Approver);
        await queue.ApprovalsAsync("CreateDelegation", new CreateDelegationRequest
        {
            DelegateId = (await IdOfAsync(queue, standIn)).ToString(),
            EndsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(server.Clock.GetUtcNow().AddDays(7)), Reason = "holiday",
        });
        await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = "first look" }, Roles.Approver);

        await NotificationMail.EventuallyAsync(server, standIn.Email, "Approval waiting for you");

        Assert.DoesNotContain(NotificationMail.To(server, queue.Tenant.Admin.Email), mail => mail.Subject?.StartsWith("Approval waiting", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_rejected_upload_is_emailed_to_its_uploader_and_a_rejected_email_intake_to_the_admins()
    {
        var queue = await QueueTenant.CreateAsync(server);
        var clerk = await PersonAsync(queue, Roles.Clerk);
        var imports = server.Server.Services.GetRequiredService<ImportService>();
        await using (var content = new MemoryStream("not,an,invoice\n1,2,3\n"u8.ToArray()))
        {
            await imports.ImportAsync(queue.Tenant.Id, new ImportRequest(DocumentKind.Invoices, "upload.csv", ImportSource.Upload, (await IdOfAsync(queue, clerk)).ToString(), null),
                content, new ImportOptions(), null, CancellationToken.None);
        }

        await using (var content = new MemoryStream("not,an,invoice\n1,2,3\n"u8.ToArray()))
        {
            await imports.ImportAsync(queue.Tenant.Id, new ImportRequest(DocumentKind.Invoices, "mailed.csv", ImportSource.Email, "intake", null),
                content, new ImportOptions(), null, CancellationToken.None);
        }

        var toUploader = await NotificationMail.EventuallyAsync(server, clerk.Email, "Import rejected");
        var toAdmin = await NotificationMail.EventuallyAsync(server, queue.Tenant.Admin.Email, "E-mail intake rejected");

        Assert.Equal(("Import rejected: upload.csv", "E-mail intake rejected: mailed.csv"), (toUploader.Subject, toAdmin.Subject));
    }

    [Fact]
    public async Task A_failed_QuickBooks_export_is_emailed_to_the_active_admins_and_never_to_a_disabled_one()
    {
        var queue = await QueueTenant.CreateAsync(server);
        var gone = await PersonAsync(queue, Roles.Admin);
        var goneId = await IdOfAsync(queue, gone);
        await using (var unitOfWork = await queue.Tenant.Database.BeginAsync(queue.Tenant.Id, CancellationToken.None))
        {
            await unitOfWork.Db.ExecuteAsync("update users set disabled_at = now() where id = @goneId", new DataParameter("goneId", goneId));
            await EventOutbox.EnqueueAsync(
                unitOfWork, new QuickBooksExportFailed(Guid.NewGuid(), queue.Tenant.Id, server.Clock.GetUtcNow(), Guid.NewGuid(), "Invalid account", "2500"),
                CancellationToken.None);
            await unitOfWork.CommitAsync(CancellationToken.None);
        }

        var mail = await NotificationMail.EventuallyAsync(server, queue.Tenant.Admin.Email, "QuickBooks export failed");

        Assert.Equal((true, 0), (mail.TextBody!.Contains("Invalid account", StringComparison.Ordinal), NotificationMail.To(server, gone.Email).Count));
    }

    [Fact]
    public async Task An_event_delivered_twice_tells_each_person_once()
    {
        var queue = await QueueTenant.CreateAsync(server);
        var failed = new QuickBooksExportFailed(Guid.NewGuid(), queue.Tenant.Id, server.Clock.GetUtcNow(), Guid.NewGuid(), "Duplicate document number", null);
        var handlers = ActivatorUtilities.CreateInstance<NotificationHandlers>(server.Server.Services);
        for (var delivery = 0; delivery < 2; delivery++)
        {
            await using var unitOfWork = await queue.Tenant.Database.BeginAsync(queue.Tenant.Id, CancellationToken.None);
            await handlers.HandleAsync(failed, new EventHandlingContext(EventEnvelope.From(failed), unitOfWork), CancellationToken.None);
            await unitOfWork.CommitAsync(CancellationToken.None);
        }

        var (emails, inApp) = (
            NotificationMail.To(server, queue.Tenant.Admin.Email).Count,
            await queue.QuerySingleAsync<int>("select count(*)::int from notifications where channel = 'in_app'"));

        Assert.Equal((1, 1), (emails, inApp));
    }

    [Fact]
    public async Task The_daily_digest_lists_what_waits_for_each_person_once_a_day()
    {
        var (queue, item) = await ExceptionAsync("D-7");
        var assignee = await PersonAsync(queue, Roles.Clerk);
        await queue.ExceptionsAsync("AssignException", new AssignExceptionRequest { ExceptionId = item.Id, UserId = (await IdOfAsync(queue, assignee)).ToString() });
        var digest = server.Server.Services.GetRequiredService<DailyDigest>();
        var day = DateOnly.FromDateTime(server.Clock.GetUtcNow().UtcDateTime);

        var first = await digest.RunAsync(queue.Tenant.Id, day, CancellationToken.None);
        var again = await digest.RunAsync(queue.Tenant.Id, day, CancellationToken.None);
        var mails = NotificationMail.To(server, assignee.Email).Where(mail => mail.Subject?.StartsWith("Waiting for you", StringComparison.Ordinal) == true).ToList();

        Assert.Equal(
            (1, true, true, 0),
            (mails.Count, mails[0].TextBody!.Contains("Exceptions assigned to you (1):", StringComparison.Ordinal),
                mails[0].TextBody!.Contains($"Invoice D-7 of V1, 150.00 GBP", StringComparison.Ordinal), again.Sent));
        Assert.True(first.Sent >= 1);
    }
}
