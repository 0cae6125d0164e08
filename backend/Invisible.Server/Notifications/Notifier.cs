using System.Net;
using System.Text;
using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Platform.Email;
using Invisible.Platform.Events;
using Invisible.Server.FieldEncryption;
using Invisible.Server.Hosting;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Notifications;

/// <summary>What to tell people about one event.</summary>
/// <param name="Text">Plain sentences; the link and the footer are added per channel.</param>
/// <param name="LinkPath">The item's address in the web app, from its root (e.g. <c>/exceptions?item=…</c>).</param>
public sealed record Notice(string Kind, string Subject, string Text, string LinkPath);

/// <summary>
/// Tells people of an event, each by the channels they chose for its kind: a row per event, person and channel
/// (<see cref="NotificationStore.RecordAsync"/>) first, and only when it is new the e-mail is sent or the in-app
/// notification published (<see cref="NotificationCreated"/>, through the outbox in the same transaction). Disabled people
/// are told nothing. An e-mail sent from a delivery whose transaction then fails is sent again on redelivery: at least once.
/// </summary>
public sealed class Notifier(
    IEmailSender email, UnsubscribeTokens unsubscribeTokens, PersonalDataKeys personalDataKeys, IOptions<NotificationsOptions> options, PublicLinks publicLinks, TimeProvider time,
    ILogger<Notifier> logger)
{
    public NotificationsOptions Options => options.Value;

    /// <summary>The web app's <paramref name="pathAndQuery"/> as e-mails link to it.</summary>
    public string LinkTo(string pathAndQuery) => publicLinks.To(pathAndQuery);

    /// <returns>How many messages (e-mails and in-app notifications) were new.</returns>
    public async Task<int> DeliverAsync(
        TenantUnitOfWork unitOfWork, Guid eventId, Notice notice, IEnumerable<Guid> recipients, CancellationToken cancellationToken)
    {
        var people = await ActivePeopleAsync(unitOfWork, recipients.Distinct().ToArray(), cancellationToken);
        if (people.Count == 0)
        {
            return 0;
        }

        var preferences = await NotificationStore.PreferencesAsync(unitOfWork, people.Select(person => person.Id).ToList(), cancellationToken);
        var now = time.GetUtcNow();
        var sent = 0;
        foreach (var person in people)
        {
            var preference = preferences[person.Id][notice.Kind];
            if (preference.InApp && await NotificationStore.RecordAsync(
                    unitOfWork, eventId, person.Id, NotificationChannels.InApp, notice.Kind, notice.Subject, notice.Text, notice.LinkPath, now,
                    cancellationToken) is { } notificationId)
            {
                await EventOutbox.EnqueueAsync(unitOfWork, new NotificationCreated(
                    Guid.NewGuid(), unitOfWork.TenantId, now, notificationId, person.Id, notice.Kind, notice.Subject, notice.LinkPath), cancellationToken);
                sent++;
            }

            if (preference.Email && await NotificationStore.RecordAsync(
                    unitOfWork, eventId, person.Id, NotificationChannels.Email, notice.Kind, notice.Subject, notice.Text, notice.LinkPath, now,
                    cancellationToken) is not null)
            {
                await SendEmailAsync(unitOfWork.TenantId, person, notice.Kind, notice.Subject, notice.Text, [(publicLinks.To(notice.LinkPath), "Open it in Invisible")], cancellationToken);
                sent++;
            }
        }

        return sent;
    }

    /// <summary>One e-mail to one person: the text, its links, and a footer with the unsubscribe link of <paramref name="kind"/>.</summary>
    public async Task SendEmailAsync(
        Guid tenantId, Recipient person, string kind, string subject, string text, IReadOnlyList<(string Url, string Label)> messageLinks, CancellationToken cancellationToken)
    {
        var unsubscribe = publicLinks.To("/unsubscribe#token=" + Uri.EscapeDataString(
            await unsubscribeTokens.IssueAsync(new UnsubscribeClaim(tenantId, person.Id, kind), cancellationToken)));
        var settings = publicLinks.To("/settings/account");
        var what = kind == NotificationKinds.DailyDigest ? "the daily digest" : "e-mails of this kind";

        var plain = new StringBuilder(text.TrimEnd()).Append("\r\n\r\n");
        foreach (var (url, label) in messageLinks)
        {
            plain.Append(label).Append(": ").Append(url).Append("\r\n");
        }

        plain.Append("\r\n-- \r\nTurn off ").Append(what).Append(": ").Append(unsubscribe).Append("\r\n")
            .Append("Choose what you are told: ").Append(settings).Append("\r\n");

        var html = new StringBuilder("<!doctype html><html><body style=\"font-family:sans-serif\">");
        foreach (var paragraph in text.TrimEnd().Split("\n\n"))
        {
            html.Append("<p>").Append(WebUtility.HtmlEncode(paragraph).Replace("\n", "<br>", StringComparison.Ordinal)).Append("</p>");
        }

        foreach (var (url, label) in messageLinks)
        {
            html.Append("<p><a href=\"").Append(WebUtility.HtmlEncode(url)).Append("\">").Append(WebUtility.HtmlEncode(label)).Append("</a></p>");
        }

        html.Append("<hr><p style=\"color:#666;font-size:smaller\"><a href=\"").Append(WebUtility.HtmlEncode(unsubscribe)).Append("\">Turn off ")
            .Append(what).Append("</a> · <a href=\"").Append(WebUtility.HtmlEncode(settings)).Append("\">Choose what you are told</a></p></body></html>");

        await email.SendAsync(new EmailMessage([new EmailAddress(person.Email, person.Name)], subject, plain.ToString(), html.ToString()), cancellationToken);
        logger.LogInformation("Notification e-mail ({Kind}) sent to user {UserId} of tenant {TenantId}", kind, person.Id, tenantId);
    }

    /// <summary>The active people among <paramref name="ids"/> with their opened e-mail addresses.</summary>
    public async Task<IReadOnlyList<Recipient>> ActivePeopleAsync(TenantUnitOfWork unitOfWork, IReadOnlyCollection<Guid>? ids, CancellationToken cancellationToken)
    {
        var chosen = ids?.ToArray();
        var rows = await unitOfWork.Db.GetTable<RecipientRow>()
            .Where(user => user.DisabledAt == null && (chosen == null || chosen.Contains(user.Id)))
            .ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            return [];
        }

        var personalData = await personalDataKeys.DataAsync(cancellationToken);
        return rows.Select(row => new Recipient(
                row.Id, row.Role, row.DisplayName == "" ? null : row.DisplayName,
                personalData.Open(row.EmailEncrypted, PersonalDataFields.OfUser(unitOfWork.TenantId, row.Id))!))
            .OrderBy(person => person.Id)
            .ToList();
    }

    public async Task<IReadOnlyList<Guid>> ActiveAdminsAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        await unitOfWork.Db.GetTable<RecipientRow>()
            .Where(user => user.DisabledAt == null && user.Role == Identity.Roles.Admin)
            .Select(user => user.Id)
            .ToListAsync(cancellationToken);

    [Table("users")]
    private sealed class RecipientRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("role")] public string Role { get; set; } = "";

        [Column("display_name")] public string DisplayName { get; set; } = "";

        [Column("email_encrypted")] public byte[] EmailEncrypted { get; set; } = [];

        [Column("disabled_at")] public DateTime? DisabledAt { get; set; }
    }
}

/// <summary>A person who can be told: active, with their e-mail address opened.</summary>
public sealed record Recipient(Guid Id, string Role, string? Name, string Email);
