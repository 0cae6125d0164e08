using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Vendors;

namespace Invisible.Reconciliation.Tests;

/// <summary>A confirmed name teaches the tenant's words: what one person confirmed for one vendor resolves other vendors' names.</summary>
public class LearnedWordsTests
{
    [Fact]
    public void A_translated_word_confirmed_for_one_vendor_resolves_another_vendors_name()
    {
        var philips = new Vendor("PHIL", "Koninklijke Philips N.V.");
        Vendor[] others = [new("KPN", "Koninklijke KPN N.V."), new("AHOL", "Koninklijke Ahold Delhaize N.V."), new("RAND", "Randstad N.V.")];

        var before = Resolver([philips, .. others]).Resolve("Royal Ahold Delhaize", null, null).Vendor?.Code;
        // As the product loads it: a confirmed name is among the vendor's known names too.
        var taught = philips with { Aliases = ["Royal Philips"], ConfirmedAliases = ["Royal Philips"] };
        var after = Resolver([taught, .. others]).Resolve("Royal Ahold Delhaize", null, null).Vendor?.Code;

        Assert.Equal((null, "AHOL"), (before, after));
    }

    [Fact]
    public void A_misspelt_legal_form_confirmed_for_one_vendor_is_dropped_from_every_name()
    {
        var siemens = new Vendor("SIEM", "Siemens Aktiengesellschaft") { ConfirmedAliases = ["Siemens Aktiengesellschatf"] };
        var directory = new VendorDirectory([siemens, new Vendor("BAYR", "Bayer Aktiengesellschaft")]);

        Assert.Equal("bayer", directory.Parse("Bayer Aktiengeselschaft").Key);
    }

    [Fact]
    public void A_trading_name_that_shares_no_word_with_the_vendor_teaches_no_words()
    {
        var acme = new Vendor("ACME", "Acme Supplies Ltd") { ConfirmedAliases = ["Roadrunner Trading"] };

        Assert.True(new VendorDirectory([acme, new Vendor("BAY", "Bayer AG")]).Learned.IsEmpty);
    }

    [Fact]
    public void A_learned_word_never_rewrites_a_word_of_another_vendors_master_name()
    {
        // "Bayer Philips" confirmed for Philips would read "bayer" as "koninklijke", but Bayer is a vendor of its own.
        var philips = new Vendor("PHIL", "Koninklijke Philips N.V.") { ConfirmedAliases = ["Bayer Philips"] };
        var resolver = Resolver(philips, new Vendor("BAYR", "Bayer AG"));

        Assert.Equal("BAYR", resolver.Resolve("Bayer AG", null, null).Vendor?.Code);
    }

    [Fact]
    public void A_word_confirmed_for_two_different_master_words_is_not_learned()
    {
        var philips = new Vendor("PHIL", "Koninklijke Philips N.V.") { ConfirmedAliases = ["Royal Philips"] };
        var shell = new Vendor("SHEL", "Koninklijke Nederlandsche Shell") { ConfirmedAliases = ["Royal Dutch Shell"] };
        var bam = new Vendor("BAM", "Nederlandsche Bouw Maatschappij") { ConfirmedAliases = ["Royal Bouw Maatschappij"] };

        Assert.DoesNotContain("royal", new VendorDirectory([philips, shell, bam]).Learned.Equivalents.Keys);
    }

    private static VendorResolver Resolver(params Vendor[] vendors) => new(new VendorDirectory(vendors), SimilarityModel.Prior);
}
