using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Invisible.Data.Tenancy;
using Invisible.Server.Exceptions;

namespace Invisible.Server.Notifications;

/// <summary>What one digest run did.</summary>
public sealed record DigestSummary(int People, int Sent, int AlreadySent, int NothingWaiting);

/// <summary>
/// The daily digest: one e-mail per person listing what waits for them (exceptions assigned to them, approvals waiting for
/// them), for those who keep the digest on for that kind. Once per person and day: the day's digest has its own event id
/// (derived from person and day), recorded like any notification, so a second run the same day sends nothing.
/// </summary>
public sealed class DailyDigest(TenantDatabase tenants, Notifier notifier, TimeProvider time, ILogger<DailyDigest> logger)
{
    /// <param name="day">The day the digest is for (the tenant's, UTC); today when null.</param>
    public async Task<DigestSummary> RunAsync(Guid tenantId, DateOnly? day, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var date = day ?? DateOnly.FromDateTime(now.UtcDateTime);
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var people = await notifier.ActivePeopleAsync(unitOfWork, ids: null, cancellationToken);
        var preferences = await NotificationStore.PreferencesAsync(unitOfWork, people.Select(person => person.Id).ToList(), cancellationToken);
        var open = await ExceptionQueries.ListAsync(
            unitOfWork, new ExceptionFilter([], null, null, null, null, null, null, ExceptionOrder.Oldest, now), 0, int.MaxValue, cancellationToken);

        var waitingFor = new Dictionary<Guid, List<ExceptionView>>();
        if (people.Any(person => preferences[person.Id][NotificationKinds.ApprovalWaiting].Digest))
        {
            foreach (var item in open.Items)
            {
                foreach (var userId in await ApprovalStore.WaitingForAsync(unitOfWork, item, now, cancellationToken))
                {
                    (waitingFor.TryGetValue(userId, out var list) ? list : waitingFor[userId] = []).Add(item);
                }
            }
        }

        var limit = notifier.Options.DigestItemLimit;
        int sent = 0, already = 0, nothing = 0;
        foreach (var person in people)
        {
            var chosen = preferences[person.Id];
            var assigned = chosen[NotificationKinds.ExceptionAssigned].Digest
                ? open.Items.Where(item => item.AssigneeId == person.Id).ToList()
                : [];
            var approvals = chosen[NotificationKinds.ApprovalWaiting].Digest && waitingFor.TryGetValue(person.Id, out var mine) ? mine : [];
            if (assigned.Count == 0 && approvals.Count == 0)
            {
                nothing++;
                continue;
            }

            var subject = string.Create(CultureInfo.InvariantCulture,
                $"Waiting for you on {date:yyyy-MM-dd}: {assigned.Count} assigned exception(s), {approvals.Count} approval(s)");
            var text = new StringBuilder();
            Section(text, "Exceptions assigned to you", assigned, limit);
            Section(text, "Approvals waiting for you", approvals, limit);
            if (await NotificationStore.RecordAsync(
                    unitOfWork, DigestEventId(tenantId, person.Id, date), person.Id, NotificationChannels.Email, NotificationKinds.DailyDigest, subject,
                    text.ToString(), "/exceptions", now, cancellationToken) is null)
            {
                already++;
                continue;
            }

            await notifier.SendEmailAsync(tenantId, person, NotificationKinds.DailyDigest, subject, text.ToString(),
                [(notifier.LinkTo("/exceptions"), "Open the exception queue")], cancellationToken);
            sent++;
        }

        await unitOfWork.CommitAsync(cancellationToken);
        logger.LogInformation(
            "Daily digest {Day} of tenant {TenantId}: {Sent} sent, {Already} already sent, {Nothing} with nothing waiting", date, tenantId, sent, already, nothing);
        return new DigestSummary(people.Count, sent, already, nothing);
    }

    /// <summary>The id a person's digest of a day is recorded under: the same however often the digest runs that day.</summary>
    public static Guid DigestEventId(Guid tenantId, Guid userId, DateOnly day)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"daily-digest|{tenantId:N}|{userId:N}|{day:yyyy-MM-dd}")));
        return new Guid(hash.AsSpan(0, 16));
    }

    private static void Section(StringBuilder text, string title, List<ExceptionView> items, int limit)
    {
        if (items.Count == 0)
        {
            return;
        }

        text.Append(title).Append(" (").Append(items.Count.ToString(CultureInfo.InvariantCulture)).Append("):\n");
        foreach (var item in items.Take(limit))
        {
            text.Append("- Invoice ").Append(item.Invoice.InvoiceNumber).Append(" of ").Append(NotificationHandlers.Vendor(item)).Append(", ")
                .Append(NotificationHandlers.Amount(item)).Append(": ").Append(item.Reason.Replace('_', ' '))
                .Append(" — ").Append(NotificationHandlers.ExceptionLink(item.Id)).Append('\n');
        }

        if (items.Count > limit)
        {
            text.Append("… and ").Append((items.Count - limit).ToString(CultureInfo.InvariantCulture)).Append(" more.\n");
        }

        text.Append('\n');
    }
}

/// <summary>
/// Sends each tenant's daily digest once it is past <see cref="NotificationsOptions.DigestHour"/> (UTC: tenants have no
/// time zone yet). Runs on the worker role; the per-day record keeps several workers from sending twice.
/// </summary>
public sealed class DailyDigestSchedule(
    TenantDirectory directory, DailyDigest digest, Microsoft.Extensions.Options.IOptions<NotificationsOptions> options, TimeProvider time,
    ILogger<DailyDigestSchedule> logger)
    : Platform.PeriodicBackgroundWork(options.Value.DigestCheckInterval, time, logger, "Daily digest")
{
    private readonly Dictionary<Guid, DateOnly> _done = [];

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow().UtcDateTime;
        if (now.Hour < options.Value.DigestHour)
        {
            return;
        }

        var today = DateOnly.FromDateTime(now);
        foreach (var tenant in await directory.ListAsync(cancellationToken))
        {
            if (_done.TryGetValue(tenant.Id, out var day) && day == today)
            {
                continue;
            }

            await digest.RunAsync(tenant.Id, today, cancellationToken);
            _done[tenant.Id] = today;
        }
    }
}
