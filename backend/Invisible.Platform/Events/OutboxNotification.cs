using System.Globalization;

namespace Invisible.Platform.Events;

/// <summary>
/// The payload of a notification on <see cref="EventOutbox.NotificationChannel"/>: <c>{tenant id}</c>, or
/// <c>{tenant id}:{position}</c> when it names the highest outbox position the committed statement wrote.
/// </summary>
public static class OutboxNotification
{
    /// <param name="position">The highest position written, or null when the notification does not say (a redrive).</param>
    public static bool TryParse(string payload, out Guid tenantId, out long? position)
    {
        position = null;
        var separator = payload.IndexOf(':', StringComparison.Ordinal);
        if (separator < 0)
        {
            return Guid.TryParse(payload, out tenantId);
        }

        if (!Guid.TryParse(payload.AsSpan(0, separator), out tenantId) ||
            !long.TryParse(payload.AsSpan(separator + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            return false;
        }

        position = parsed;
        return true;
    }
}
