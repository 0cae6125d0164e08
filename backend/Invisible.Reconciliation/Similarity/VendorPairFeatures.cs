using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Text;
using Invisible.Reconciliation.Vendors;

namespace Invisible.Reconciliation.Similarity;

/// <summary>The explicit features describing "is the vendor printed on this invoice this master vendor?".</summary>
public static class VendorPairFeatures
{
    public static readonly IReadOnlyList<string> Names =
    [
        "name_identical",
        "name_idf_cosine",
        "name_jaro_winkler",
        "name_trigram_overlap",
        "rarest_word_agrees",
        "tax_id_agreement",
        "referenced_po_of_vendor",
    ];

    /// <param name="referencedPoVendor">The vendor of the PO the invoice references, if the reference is known.</param>
    public static double[] Compute(
        VendorDirectory directory,
        VendorName printed,
        string? printedTaxId,
        Vendor vendor,
        VendorName masterName,
        Vendor? referencedPoVendor) =>
        WithEvidence(NameFeatures(directory, printed, masterName), printedTaxId, vendor, referencedPoVendor);

    /// <summary>The features that depend on the two names only (the costly part, worth remembering per printed name).</summary>
    public static double[] NameFeatures(VendorDirectory directory, VendorName printed, VendorName masterName)
    {
        var agreement = directory.Compare(printed, masterName);
        return
        [
            printed.Key == masterName.Key ? 1 : 0,
            agreement.Cosine,
            StringSimilarity.JaroWinkler(printed.Key, masterName.Key),
            StringSimilarity.TrigramDice(printed.TrigramCodes, masterName.TrigramCodes),
            agreement.RarestWordAgrees ? 1 : 0,
        ];
    }

    /// <summary>Completes <see cref="NameFeatures"/> with the evidence beyond the name: tax id and referenced PO.</summary>
    public static double[] WithEvidence(double[] nameFeatures, string? printedTaxId, Vendor vendor, Vendor? referencedPoVendor) =>
    [
        .. nameFeatures,
        TaxIdAgreement(printedTaxId, vendor.TaxId),
        referencedPoVendor is not null && referencedPoVendor.Code == vendor.Code ? 1 : 0,
    ];

    /// <summary>+1 when both tax ids are known and equal, -1 when both are known and differ, 0 when either is missing.</summary>
    public static double TaxIdAgreement(string? printed, string? master)
    {
        var (a, b) = (Normalize.Code(printed), Normalize.Code(master));
        return a.Length == 0 || b.Length == 0 ? 0 : a == b ? 1 : -1;
    }
}
