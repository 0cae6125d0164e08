namespace Invisible.Ingestion.Mail;

/// <summary>Why a message was let through, or why it waits for a clerk.</summary>
public enum TrustReason
{
    TenantUser,
    VendorAddress,
    VendorDomain,
    Allowlisted,
    SenderNotRecognised,
    AuthenticationFailed,
}

public sealed record TrustVerdict(bool Trusted, TrustReason Reason, string Explanation);

/// <summary>
/// What a tenant knows of senders, all lower case: its users' addresses, its vendors' addresses, and allowlist entries
/// (a full address, or <c>@domain</c> for a whole domain).
/// </summary>
public sealed record KnownSenders(IReadOnlySet<string> UserAddresses, IReadOnlySet<string> VendorAddresses, IReadOnlySet<string> Allowlist);

/// <summary>
/// Decides whether a message is processed or held. A failed DKIM or SPF check for the sender's own domain holds it
/// whoever it claims to be from: a forged From would otherwise borrow a vendor's trust.
/// </summary>
public static class SenderTrust
{
    public static TrustVerdict Decide(MailReading message, KnownSenders known)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(known);
        var from = message.From;
        var domain = message.FromDomain;
        var failure = message.AuthenticationFailures.FirstOrDefault(f => f.Domain.Length == 0 || f.Domain == domain || domain.EndsWith("." + f.Domain, StringComparison.Ordinal));
        if (failure is not null)
        {
            return new TrustVerdict(false, TrustReason.AuthenticationFailed,
                $"held: the relay recorded {failure.Method}=fail for {(failure.Domain.Length == 0 ? "the sender" : failure.Domain)}");
        }

        if (from.Length == 0 || domain.Length == 0)
        {
            return new TrustVerdict(false, TrustReason.SenderNotRecognised, "held: sender not recognised (no sender address)");
        }

        if (known.UserAddresses.Contains(from))
        {
            return new TrustVerdict(true, TrustReason.TenantUser, $"{from} is a user of the tenant");
        }

        if (known.VendorAddresses.Contains(from))
        {
            return new TrustVerdict(true, TrustReason.VendorAddress, $"{from} is a vendor's e-mail address");
        }

        if (known.VendorAddresses.Any(address => address.EndsWith("@" + domain, StringComparison.Ordinal)))
        {
            return new TrustVerdict(true, TrustReason.VendorDomain, $"{domain} is a vendor's e-mail domain");
        }

        if (known.Allowlist.Contains(from) || known.Allowlist.Contains("@" + domain))
        {
            return new TrustVerdict(true, TrustReason.Allowlisted, $"{from} is on the allowlist");
        }

        return new TrustVerdict(false, TrustReason.SenderNotRecognised, $"held: sender not recognised ({from})");
    }
}
