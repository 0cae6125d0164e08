using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Vendors;

namespace Invisible.Reconciliation.Tests;

/// <summary>How real master data spells one company several ways, and how the resolver prefers unresolved to wrong.</summary>
public class VendorNameVariantsTests
{
    [Theory]
    [InlineData("Heineken N. V.", "Heineken N.V.")]
    [InlineData("VAN LEEUWEN B.V", "Van Leeuwen BV")]
    [InlineData("Siemens Aktiengesellschaft", "SIEMENS AG")]
    [InlineData("AB Volvo", "Volvo AB")]
    [InlineData("Bosch GmbH & Co. KG", "Bosch")]
    [InlineData("Müller Gesellschaft mit beschränkter Haftung", "Muller GmbH")]
    [InlineData("Nestlé S.A.", "NESTLE SA")]
    [InlineData("Straße Bau AG", "Strasse Bau")]
    [InlineData("Øresund Logistik ApS", "Oresund Logistik")]
    [InlineData("Heineken N.V. Amsterdam", "Heineken Amsterdam")]
    public void Legal_forms_in_any_position_and_spelling_and_accents_do_not_change_the_name(string printed, string master) =>
        Assert.Equal(VendorName.Parse(master).Key, VendorName.Parse(printed).Key);

    [Theory]
    [InlineData("Public Storage", "public storage")]
    [InlineData("Smith Co Packaging", "smith co packaging")]
    public void Legal_form_words_that_are_part_of_the_name_stay(string printed, string key) =>
        Assert.Equal(key, VendorName.Parse(printed).Key);

    [Theory]
    [InlineData("IBM")]
    [InlineData("IBM Corp.")]
    [InlineData("I.B.M.")]
    public void An_acronym_resolves_to_the_one_vendor_it_abbreviates(string printed)
    {
        var resolver = Resolver(new Vendor("IBM1", "International Business Machines Corporation"), new Vendor("HP", "Hewlett Packard Enterprise Company"));

        Assert.Equal("IBM1", resolver.Resolve(printed, null, null).Vendor?.Code);
    }

    [Fact]
    public void A_printed_expansion_resolves_to_the_vendor_whose_master_name_is_its_acronym()
    {
        var resolver = Resolver(new Vendor("BMW", "BMW AG"), new Vendor("DB", "Deutsche Bank AG"));

        Assert.Equal("BMW", resolver.Resolve("Bayerische Motoren Werke Aktiengesellschaft", null, null).Vendor?.Code);
    }

    [Fact]
    public void An_acronym_two_vendors_share_stays_unresolved()
    {
        var resolver = Resolver(new Vendor("A", "Acme Building Consultants Ltd"), new Vendor("B", "Atlas Bridge Construction Ltd"));

        Assert.Null(resolver.Resolve("ABC", null, null).Vendor);
    }

    [Fact]
    public void A_word_none_of_the_vendors_names_has_leaves_a_sister_company_unresolved()
    {
        var resolver = Resolver(new Vendor("SIEM", "Siemens Aktiengesellschaft"), new Vendor("BAY", "Bayer AG"));

        var resolution = resolver.Resolve("Siemens Energy AG", null, null);

        Assert.Null(resolution.Vendor);
        Assert.Contains("energy", resolution.Explanation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Volkswagon AG")]
    [InlineData("VOLKSWAGEN AKTIENGESELLSCHAFT")]
    public void Typos_and_capitals_still_resolve(string printed)
    {
        var resolver = Resolver(new Vendor("VW", "Volkswagen AG"), new Vendor("BAY", "Bayer AG"));

        Assert.Equal("VW", resolver.Resolve(printed, null, null).Vendor?.Code);
    }

    [Fact]
    public void A_confirmed_name_resolves_at_once_even_when_it_resembles_no_vendor()
    {
        var acme = new Vendor("ACME", "Acme Supplies Ltd") { ConfirmedAliases = ["Roadrunner Trading"] };
        var resolver = Resolver(acme, new Vendor("BAY", "Bayer AG"));

        var resolution = resolver.Resolve("ROADRUNNER TRADING LTD", null, null);

        Assert.Equal("ACME", resolution.Vendor?.Code);
        Assert.Contains("confirmed", resolution.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_confirmed_name_gives_way_to_a_contradicting_tax_id()
    {
        var acme = new Vendor("ACME", "Acme Supplies Ltd", TaxId: "GB111") { ConfirmedAliases = ["Roadrunner Trading"] };
        var resolver = Resolver(acme, new Vendor("BAY", "Bayer AG", TaxId: "DE222"));

        Assert.NotEqual("ACME", resolver.Resolve("Roadrunner Trading", "GB999", null).Vendor?.Code);
    }

    private static VendorResolver Resolver(params Vendor[] vendors) => new(new VendorDirectory(vendors), SimilarityModel.Prior);
}
