using System.Globalization;
using Invisible.Platform.Events;
using Invisible.Server.Exceptions;
using Invisible.Server.Imports;
using Invisible.Server.QuickBooks;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.Notifications;

/// <summary>
/// The events people are told of, each turned into a <see cref="Notice"/> for its recipients and handed to the
/// <see cref="Notifier"/> in the delivery's transaction (so the notification rows commit with the inbox row).
/// </summary>
public sealed class NotificationHandlers(Notifier notifier, TimeProvider time)
    : IIntegrationEventHandler<ExceptionAssigned>, IIntegrationEventHandler<ApprovalWaiting>, IIntegrationEventHandler<ImportRejected>,
        IIntegrationEventHandler<QuickBooksExportFailed>
{
    public async Task HandleAsync(ExceptionAssigned assigned, EventHandlingContext context, CancellationToken cancellationToken)
    {
        var item = await ExceptionQueries.GetAsync(context.UnitOfWork, assigned.ExceptionId, forUpdate: false, cancellationToken);
        if (item is null || item.AssigneeId != assigned.AssigneeId || item.State is not ("open" or "in_review"))
        {
            // Reassigned or closed before this was delivered: nothing waits for them any more.
            return;
        }

        var people = await ApprovalStore.PeopleAsync(context.UnitOfWork, cancellationToken);
        var by = people.TryGetValue(assigned.AssignedById, out var assigner) ? assigner.Name : assigned.AssignedBy;
        var notice = new Notice(
            NotificationKinds.ExceptionAssigned,
            $"Exception assigned to you: invoice {item.Invoice.InvoiceNumber} ({Vendor(item)})",
            $"{by} assigned you the exception on invoice {item.Invoice.InvoiceNumber} of {Vendor(item)}, {Amount(item)}.\n\n" +
            $"Why it is an exception: {item.Explanation ?? Reasons(item.Reason)}",
            ExceptionLink(item.Id));
        await notifier.DeliverAsync(context.UnitOfWork, assigned.Id, notice, [assigned.AssigneeId], cancellationToken);
    }

    public async Task HandleAsync(ApprovalWaiting waiting, EventHandlingContext context, CancellationToken cancellationToken)
    {
        var item = await ExceptionQueries.GetAsync(context.UnitOfWork, waiting.ExceptionId, forUpdate: false, cancellationToken);
        if (item is null)
        {
            return;
        }

        var waitingFor = (await ApprovalStore.WaitingForAsync(context.UnitOfWork, item, time.GetUtcNow(), cancellationToken))
            .Where(id => id != waiting.ApprovedById)
            .ToList();
        var progress = await ApprovalStore.ProgressAsync(context.UnitOfWork, item, time.GetUtcNow(), cancellationToken);
        var notice = new Notice(
            NotificationKinds.ApprovalWaiting,
            $"Approval waiting for you: invoice {item.Invoice.InvoiceNumber} ({Amount(item)})",
            $"The exception on invoice {item.Invoice.InvoiceNumber} of {Vendor(item)}, {Amount(item)}, needs {progress.Progress.Summary.ToLowerInvariant()} " +
            $"under the rule \"{progress.Progress.Match.Rule.Name}\".\n\n" +
            $"Approved so far by: {string.Join(", ", progress.Approvals.Select(given => given.OnBehalfOfName is null ? given.ApproverName : $"{given.ApproverName} for {given.OnBehalfOfName}"))}.",
            ExceptionLink(item.Id));
        await notifier.DeliverAsync(context.UnitOfWork, waiting.Id, notice, waitingFor, cancellationToken);
    }

    public async Task HandleAsync(ImportRejected rejected, EventHandlingContext context, CancellationToken cancellationToken)
    {
        var viaEmail = rejected.Source == "email";
        IReadOnlyList<Guid> recipients = !viaEmail && Guid.TryParse(rejected.Actor, out var uploader) &&
                                         await context.Db.GetTable<UserIdRow>().AnyAsync(user => user.Id == uploader, cancellationToken)
            ? [uploader]
            : await notifier.ActiveAdminsAsync(context.UnitOfWork, cancellationToken);
        var what = viaEmail ? "E-mail intake rejected" : "Import rejected";
        var notice = new Notice(
            NotificationKinds.ImportRejected,
            $"{what}: {rejected.FileName}",
            $"The {rejected.Kind.Replace('_', ' ')} file {rejected.FileName}{(viaEmail ? ", received by e-mail," : "")} was rejected with " +
            $"{rejected.ErrorCount.ToString(CultureInfo.InvariantCulture)} error(s); nothing of it was stored.\n\n" +
            (rejected.FirstError == "" ? "" : $"First error: {rejected.FirstError}\n\n") +
            "The import history lists every error and offers them as a CSV file.",
            viaEmail ? "/imports/email" : "/imports");
        await notifier.DeliverAsync(context.UnitOfWork, rejected.Id, notice, recipients, cancellationToken);
    }

    public async Task HandleAsync(QuickBooksExportFailed failed, EventHandlingContext context, CancellationToken cancellationToken)
    {
        var number = await context.Db.GetTable<InvoiceNumberRow>().Where(invoice => invoice.Id == failed.InvoiceId)
            .Select(invoice => invoice.InvoiceNumber).FirstOrDefaultAsync(cancellationToken) ?? failed.InvoiceId.ToString();
        var notice = new Notice(
            NotificationKinds.QuickBooksExportFailed,
            $"QuickBooks export failed: invoice {number}",
            $"QuickBooks refused the export of invoice {number}: {failed.Reason}" +
            (failed.FaultCode is null ? "" : $" (fault {failed.FaultCode})") +
            ".\n\nCorrect what QuickBooks names, then retry the export from the invoice.",
            $"/invoices/{failed.InvoiceId}");
        await notifier.DeliverAsync(context.UnitOfWork, failed.Id, notice, await notifier.ActiveAdminsAsync(context.UnitOfWork, cancellationToken), cancellationToken);
    }

    public static string ExceptionLink(Guid exceptionId) => $"/exceptions?item={exceptionId}";

    public static string Vendor(ExceptionView item) => item.Invoice.VendorCode ?? item.Invoice.PrintedVendorName;

    public static string Amount(ExceptionView item) =>
        string.Create(CultureInfo.InvariantCulture, $"{item.Invoice.InvoiceTotal:#,0.00} {item.Invoice.Currency.Trim()}");

    private static string Reasons(string reason) => string.Join(", ", ApprovalStore.Reasons(reason).Select(r => r.Replace('_', ' ')));

    [Table("users")]
    private sealed class UserIdRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }
    }

    [Table("invoices")]
    private sealed class InvoiceNumberRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("invoice_number")] public string InvoiceNumber { get; set; } = "";
    }
}
