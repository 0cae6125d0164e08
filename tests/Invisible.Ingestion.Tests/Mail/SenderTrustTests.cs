using Invisible.Ingestion.Mail;

namespace Invisible.Ingestion.Tests.Mail;

public sealed class SenderTrustTests
{
    private static readonly KnownSenders Known = new(
        new HashSet<string> { "clerk@acme.example" },
        new HashSet<string> { "billing@vendor.example" },
        new HashSet<string> { "scanner@printers.example", "@partner.example" });

    private static MailReading From(string from, params AuthenticationFailure[] failures) => new(null, from, [], "", null, failures, []);

    [Theory]
    [InlineData("clerk@acme.example", TrustReason.TenantUser)]
    [InlineData("billing@vendor.example", TrustReason.VendorAddress)]
    [InlineData("someone-else@vendor.example", TrustReason.VendorDomain)]
    [InlineData("scanner@printers.example", TrustReason.Allowlisted)]
    [InlineData("anyone@partner.example", TrustReason.Allowlisted)]
    [InlineData("stranger@unknown.example", TrustReason.SenderNotRecognised)]
    [InlineData("", TrustReason.SenderNotRecognised)]
    public void A_sender_is_trusted_by_user_vendor_address_vendor_domain_or_allowlist_and_held_otherwise(string from, TrustReason expected)
    {
        Assert.Equal(expected, SenderTrust.Decide(From(from), Known).Reason);
    }

    [Fact]
    public void A_dkim_failure_for_the_senders_domain_holds_even_a_known_vendor()
    {
        var verdict = SenderTrust.Decide(From("billing@vendor.example", new AuthenticationFailure("dkim", "vendor.example")), Known);

        Assert.Equal((false, TrustReason.AuthenticationFailed), (verdict.Trusted, verdict.Reason));
    }

    [Fact]
    public void An_spf_failure_about_another_domain_does_not_hold_the_message()
    {
        Assert.True(SenderTrust.Decide(From("billing@vendor.example", new AuthenticationFailure("spf", "bounces.mailer.example")), Known).Trusted);
    }
}
