using Invisible.Platform.Secrets;
using Invisible.Server.Security;

namespace Invisible.Server.Notifications;

/// <summary>Whom an unsubscribe link is for and which kind of e-mail it turns off.</summary>
public sealed record UnsubscribeClaim(Guid TenantId, Guid UserId, string Kind);

/// <summary>
/// The token of an e-mail's unsubscribe link: tenant, person and kind, signed for this purpose alone (<see cref="SignedPayloads"/>). It
/// does not expire (an old e-mail's link still works) and can do one thing only: turn e-mail of its kind off.
/// </summary>
public sealed class UnsubscribeTokens(ISecretStore secrets)
{
    private readonly SignedPayloads payloads = new(secrets, "invisible notification unsubscribe v1");

    public Task<string> IssueAsync(UnsubscribeClaim claim, CancellationToken cancellationToken) =>
        payloads.SignAsync([claim.TenantId.ToString("N"), claim.UserId.ToString("N"), claim.Kind], cancellationToken);

    /// <summary>The claim of a genuine token; null for anything else.</summary>
    public async Task<UnsubscribeClaim?> ValidateAsync(string? token, CancellationToken cancellationToken) =>
        await payloads.OpenAsync(token, 3, cancellationToken) is [var tenant, var user, var kind] &&
        Guid.TryParseExact(tenant, "N", out var tenantId) && Guid.TryParseExact(user, "N", out var userId) &&
        (NotificationKinds.IsChosen(kind) || kind == NotificationKinds.DailyDigest)
            ? new UnsubscribeClaim(tenantId, userId, kind)
            : null;
}
