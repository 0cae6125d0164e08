using Invisible.Data.Tenancy;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace Invisible.Server.Notifications;

/// <summary>A notification as the bell lists it.</summary>
public sealed record NotificationView(Guid Id, string Kind, string Subject, string Body, string Link, DateTimeOffset CreatedAt, bool Read);

/// <summary>Storage of notifications and preferences (migration 0033), inside a tenant's unit of work.</summary>
public static class NotificationStore
{
    /// <summary>
    /// Records that <paramref name="userId"/> is told of <paramref name="eventId"/> on <paramref name="channel"/>; false when
    /// that was recorded before (a redelivered event): then nothing must be sent again.
    /// </summary>
    public static async Task<Guid?> RecordAsync(
        TenantUnitOfWork unitOfWork, Guid eventId, Guid userId, string channel, string kind, string subject, string body, string link, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        // SQL: insert ... on conflict do nothing returning id is how one statement says "unless already told".
        var inserted = await unitOfWork.Db.QueryToListAsync<Guid>(
            """
            insert into notifications (tenant_id, event_id, user_id, channel, kind, subject, body, link, created_at)
            values (@tenantId, @eventId, @userId, @channel, @kind, @subject, @body, @link, @now)
            on conflict (tenant_id, event_id, user_id, channel) do nothing
            returning id
            """,
            new { tenantId = unitOfWork.TenantId, eventId, userId, channel, kind, subject, body, link, now = now.UtcDateTime }, cancellationToken);
        return inserted.Count == 0 ? null : inserted[0];
    }

    /// <summary>Each person's choice for each chosen kind (defaults filled in).</summary>
    public static async Task<Dictionary<Guid, Dictionary<string, NotificationPreference>>> PreferencesAsync(
        TenantUnitOfWork unitOfWork, IReadOnlyCollection<Guid> userIds, CancellationToken cancellationToken)
    {
        var ids = userIds.ToArray();
        var stored = (await unitOfWork.Db.GetTable<PreferenceRow>().Where(row => ids.Contains(row.UserId)).ToListAsync(cancellationToken))
            .ToLookup(row => row.UserId);
        return ids.Distinct().ToDictionary(
            id => id,
            id => NotificationKinds.Chosen.ToDictionary(
                entry => entry.Kind,
                entry => stored[id].FirstOrDefault(row => row.Kind == entry.Kind) is { } row
                    ? new NotificationPreference(row.Kind, row.Email, row.InApp, row.Digest)
                    : NotificationPreference.Default(entry.Kind),
                StringComparer.Ordinal));
    }

    public static async Task<IReadOnlyList<NotificationPreference>> PreferencesOfAsync(TenantUnitOfWork unitOfWork, Guid userId, CancellationToken cancellationToken) =>
        (await PreferencesAsync(unitOfWork, [userId], cancellationToken))[userId].Values.ToList();

    public static async Task SaveAsync(
        TenantUnitOfWork unitOfWork, Guid userId, IEnumerable<NotificationPreference> preferences, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var preference in preferences)
        {
            await unitOfWork.Db.GetTable<PreferenceRow>()
                .InsertOrUpdateAsync(
                    () => new PreferenceRow
                    {
                        TenantId = unitOfWork.TenantId, UserId = userId, Kind = preference.Kind, Email = preference.Email, InApp = preference.InApp,
                        Digest = preference.Digest, UpdatedAt = now.UtcDateTime,
                    },
                    row => new PreferenceRow { Email = preference.Email, InApp = preference.InApp, Digest = preference.Digest, UpdatedAt = now.UtcDateTime },
                    cancellationToken);
        }
    }

    public static async Task<(IReadOnlyList<NotificationView> Items, int Unread)> ListAsync(
        TenantUnitOfWork unitOfWork, Guid userId, int limit, CancellationToken cancellationToken)
    {
        var mine = unitOfWork.Db.GetTable<NotificationRow>().Where(row => row.UserId == userId && row.Channel == NotificationChannels.InApp);
        var rows = await mine.OrderByDescending(row => row.CreatedAt).ThenByDescending(row => row.Id).Take(limit).ToListAsync(cancellationToken);
        var unread = await mine.CountAsync(row => row.ReadAt == null, cancellationToken);
        return (rows.Select(row => new NotificationView(
            row.Id, row.Kind, row.Subject, row.Body, row.Link, new DateTimeOffset(DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc)), row.ReadAt is not null)).ToList(), unread);
    }

    /// <summary>Marks the person's given notifications (all, when none given) read; returns how many stay unread.</summary>
    public static async Task<int> MarkReadAsync(
        TenantUnitOfWork unitOfWork, Guid userId, IReadOnlyCollection<Guid> ids, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var chosen = ids.ToArray();
        var mine = unitOfWork.Db.GetTable<NotificationRow>().Where(row => row.UserId == userId && row.Channel == NotificationChannels.InApp);
        await mine.Where(row => row.ReadAt == null && (chosen.Length == 0 || chosen.Contains(row.Id)))
            .Set(row => row.ReadAt, now.UtcDateTime)
            .UpdateAsync(cancellationToken);
        return await mine.CountAsync(row => row.ReadAt == null, cancellationToken);
    }

    [Table("notifications")]
    private sealed class NotificationRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("user_id")] public Guid UserId { get; set; }

        [Column("channel")] public string Channel { get; set; } = "";

        [Column("kind")] public string Kind { get; set; } = "";

        [Column("subject")] public string Subject { get; set; } = "";

        [Column("body")] public string Body { get; set; } = "";

        [Column("link")] public string Link { get; set; } = "";

        [Column("created_at")] public DateTime CreatedAt { get; set; }

        [Column("read_at")] public DateTime? ReadAt { get; set; }
    }

    [Table("notification_preferences")]
    private sealed class PreferenceRow
    {
        [Column("tenant_id"), PrimaryKey] public Guid TenantId { get; set; }

        [Column("user_id"), PrimaryKey] public Guid UserId { get; set; }

        [Column("kind"), PrimaryKey] public string Kind { get; set; } = "";

        [Column("email")] public bool Email { get; set; }

        [Column("in_app")] public bool InApp { get; set; }

        [Column("digest")] public bool Digest { get; set; }

        [Column("updated_at")] public DateTime UpdatedAt { get; set; }
    }
}
