using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Vendors;

namespace Invisible.Reconciliation.Tests;

public class VendorResolutionTests
{
    private static readonly Vendor[] Master =
    [
        new("V1", "Acme Holdings Inc"),
        new("V2", "Acme Group Ltd"),
        new("V3", "Beta Group Ltd"),
        new("V4", "Summit Industrial Supply Inc", "71-9518662"),
        new("V5", "Vertex Industrial Supply Limited", "19-5037248"),
        new("V6", "Beacon Facility Services GmbH"),
        new("V7", "Bluewater Hardware Corporation"),
        new("V8", "Oakmont Office Products B.V."),
        new("V9", "Northwind Manufacturing International Co"),
    ];

    private static VendorResolver Resolver(IReadOnlyList<Vendor>? vendors = null) =>
        new(new VendorDirectory(vendors ?? Master), SimilarityModel.Prior);

    [Theory]
    [InlineData("ACME Holdings, Inc.", "Acme Holdings Inc")]
    [InlineData("The Acme Holdings Incorporated", "acme holdings")]
    [InlineData("Oakmont Office Products BV", "OAKMONT OFFICE PRODUCTS B. V.")]
    [InlineData("Smith & Sons S.A.", "Smith and Sons SA")]
    [InlineData("Rossi Forniture S.p.A.", "Rossi Forniture")]
    [InlineData("Kobayashi Trading KK", "Kobayashi Trading K.K.")]
    [InlineData("Driftwood Electrical Incorporatted", "Driftwood Electrical Inc")]
    [InlineData("Pioneer Chemicals Limted", "PIONEER CHEMICALS LTD")]
    [InlineData("SMITH &AMP; SONS B.V", "Smith & Sons")]
    [InlineData("Smith &amp Sons N. V.", "Smith and Sons NV")]
    [InlineData("O&#39;Brien Tools", "O'Brien Tools")]
    [InlineData("Siemens Aktiengesellschaft", "SIEMENS AG")]
    [InlineData("Philips Naamloze Vennootschap", "Philips N.V.")]
    [InlineData("Koninklijke KPN N.V., DEN HAAG", "Koninklijke KPN NV")]
    [InlineData("Oakmont Office Products B. V., BERGEN OP ZOOM, NL", "Oakmont Office Products")]
    [InlineData("Smith, Jones & Partners", "Smith Jones and Partners")]
    public void Names_differing_only_in_case_punctuation_articles_and_legal_form_normalise_alike(string first, string second)
    {
        Assert.Equal(VendorName.Parse(first).Key, VendorName.Parse(second).Key);
    }

    [Theory]
    [InlineData("ACME Holdings, Inc.", "V1")]
    [InlineData("Acme Holdings Inc", "V1")]
    [InlineData("Acme Group Limited", "V2")]
    [InlineData("Beacon Fac. Svcs Gmbh", "V6")]
    [InlineData("Summit Ind. Supp. Inc", "V4")]
    [InlineData("Vertex Ind Supp Ltd", "V5")]
    [InlineData("Bluewtaer Hardware Corporation", "V7")]
    [InlineData("Bleuwater Hardware Corp", "V7")]
    [InlineData("The Oakmont Office Prods", "V8")]
    [InlineData("Northwind Mfg Intl", "V9")]
    public void Printed_variants_resolve_to_their_master_vendor(string printed, string expectedCode)
    {
        var resolution = Resolver().Resolve(printed, null, null);

        Assert.Equal(expectedCode, resolution.Vendor?.Code);
    }

    [Fact]
    public void Acme_Group_never_resolves_to_Beta_Group_because_only_the_common_word_agrees()
    {
        var withoutAcmeGroup = Master.Where(vendor => vendor.Code != "V2").ToList();

        var resolution = Resolver(withoutAcmeGroup).Resolve("Acme Group Ltd", null, null);

        Assert.NotEqual("V3", resolution.Vendor?.Code);
        Assert.Null(resolution.Vendor);
        Assert.Contains("No master vendor", resolution.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shared_industry_word_does_not_make_two_suppliers_alike()
    {
        var resolution = Resolver().Resolve("Pinnacle Industrial Supply Inc", null, null);

        Assert.Null(resolution.Vendor);
    }

    [Fact]
    public void A_matching_tax_id_identifies_a_vendor_whose_printed_name_is_a_trading_name()
    {
        var resolution = Resolver().Resolve("Summit Tools", "71 9518662", null);

        Assert.Equal("V4", resolution.Vendor?.Code);
    }

    [Fact]
    public void A_conflicting_tax_id_counts_against_a_similar_name()
    {
        var agreeing = Resolver().Resolve("Vertex Ind Supp", "19-5037248", null);
        var conflicting = Resolver().Resolve("Vertex Ind Supp", "99-0000001", null);

        Assert.True(agreeing.Score > conflicting.Score);
    }

    [Fact]
    public void A_referenced_PO_is_strong_evidence_for_its_vendor()
    {
        var withoutReference = Resolver().Resolve("Bluewater", null, null);
        var withReference = Resolver().Resolve("Bluewater", null, Master.Single(vendor => vendor.Code == "V7"));

        Assert.Equal("V7", withReference.Vendor?.Code);
        Assert.True(withReference.Score > withoutReference.Score);
    }

    [Fact]
    public void Aliases_confirmed_by_reviewers_resolve_like_the_master_name()
    {
        var vendors = Master.Append(new Vendor("V10", "Contoso Chemicals Corp.") { Aliases = ["CCX Trading"] }).ToList();

        Assert.Equal("V10", Resolver(vendors).Resolve("CCX Trading Ltd", null, null).Vendor?.Code);
    }
}
