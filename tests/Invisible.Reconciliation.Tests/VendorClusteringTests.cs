using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Vendors;
using Xunit.Abstractions;

namespace Invisible.Reconciliation.Tests;

/// <summary>Duplicate clusters in a vendor master, and the figures that measure them.</summary>
public class VendorClusteringTests(ITestOutputHelper output)
{
    [Fact]
    public void A_generated_master_with_known_duplicates_clusters_with_pairwise_F1_of_at_least_0_9()
    {
        var (vendors, truth) = GeneratedMaster(seed: 7, companies: 300, duplicated: 90);

        var clusters = VendorClustering.Cluster(vendors, SimilarityModel.Prior);
        var scores = ClusterEvaluation.Score(Predicted(vendors, clusters), vendors.Select(vendor => truth[vendor.Code]).ToList());

        output.WriteLine($"{vendors.Count} vendors, {clusters.Count} clusters: pairwise P {scores.Pairwise.Precision:P1} R {scores.Pairwise.Recall:P1} " +
            $"F1 {scores.Pairwise.F1:0.000}; B-cubed P {scores.BCubed.Precision:P1} R {scores.BCubed.Recall:P1} F1 {scores.BCubed.F1:0.000}");
        Assert.True(scores.Pairwise.F1 >= 0.9, $"pairwise F1 {scores.Pairwise.F1:0.000}");
    }

    [Fact]
    public void Vendors_sharing_a_tax_id_cluster_even_under_another_name_and_a_sister_company_does_not()
    {
        Vendor[] vendors =
        [
            new("V1", "Siemens Aktiengesellschaft", TaxId: "DE129274202"),
            new("V2", "SIEMENS AG", TaxId: "DE 129 274 202"),
            new("V3", "Siemens Energy AG", TaxId: "DE325142717"),
            new("V4", "International Business Machines Corp"),
            new("V5", "IBM"),
            new("V6", "Bayer AG"),
        ];

        var clusters = VendorClustering.Cluster(vendors, SimilarityModel.Prior);

        Assert.Equal(
            [["V1", "V2"], ["V4", "V5"]],
            clusters.Select(cluster => cluster.Members.Select(vendor => vendor.Code).ToArray()).ToArray());
    }

    [Fact]
    public void Pairwise_and_B_cubed_figures_are_those_computed_by_hand()
    {
        // Truth {a1,a2,a3} {b1,b2} {c1}; predicted {a1,a2} {a3,b1,b2} {c1}.
        string[] truth = ["a", "a", "a", "b", "b", "c"];
        string[] predicted = ["1", "1", "2", "2", "2", "3"];

        var scores = ClusterEvaluation.Score(predicted, truth);

        // Pairs: true 3 + 1 = 4; predicted 1 + 3 = 4; correct (a1,a2) and (b1,b2) = 2 → P = R = 0.5.
        // B-cubed precision: a1 1, a2 1, a3 1/3, b1 2/3, b2 2/3, c1 1 → 14/3 / 6 = 7/9.
        // B-cubed recall: a1 2/3, a2 2/3, a3 1/3, b1 1, b2 1, c1 1 → 14/3 / 6 = 7/9.
        Assert.Equal(
            (0.5, 0.5, Math.Round(7.0 / 9, 12), Math.Round(7.0 / 9, 12)),
            (scores.Pairwise.Precision, scores.Pairwise.Recall, Math.Round(scores.BCubed.Precision, 12), Math.Round(scores.BCubed.Recall, 12)));
    }

    /// <summary>Each vendor's cluster id: its cluster's, or its own code when it is in none.</summary>
    public static List<string> Predicted(IReadOnlyList<Vendor> vendors, IReadOnlyList<VendorCluster> clusters)
    {
        var clusterOf = clusters.SelectMany(cluster => cluster.Members.Select(member => (member.Code, cluster.Id)))
            .ToDictionary(entry => entry.Code, entry => entry.Id, StringComparer.Ordinal);
        return vendors.Select(vendor => clusterOf.GetValueOrDefault(vendor.Code, "alone " + vendor.Code)).ToList();
    }

    /// <summary>
    /// A master of made-up companies (two or three words from a large pool, a legal form) where some companies were entered
    /// again as a printed variant of their name (abbreviated, misspelt, another legal form, upper case).
    /// </summary>
    public static (List<Vendor> Vendors, Dictionary<string, string> Truth) GeneratedMaster(int seed, int companies, int duplicated)
    {
        string[] first = ["Amber", "Birch", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Indigo", "Juniper", "Kestrel", "Lumen",
            "Meridian", "Northwind", "Obsidian", "Pinnacle", "Quartz", "Redwood", "Summit", "Tundra", "Umber", "Vertex", "Willow", "Zephyr",
            "Atlas", "Beacon", "Cedar", "Dune", "Everest", "Fjord", "Glacier", "Horizon", "Ironwood", "Jasper", "Keystone", "Lakeside",
            "Maple", "Nimbus", "Orchard", "Prairie", "Quarry", "Ridge", "Sequoia", "Timber", "Upland", "Valley", "Westfield", "Yarrow"];
        string[] second = ["Industrial", "Supply", "Manufacturing", "Logistics", "Engineering", "Electrical", "Chemicals", "Packaging",
            "Systems", "Equipment", "Holdings", "Services", "Technologies", "Foods", "Textiles", "Plastics", "Metals", "Freight"];
        string[] forms = ["Ltd", "Inc", "GmbH", "B.V.", "LLC", "Corporation", "S.A.", "AG"];
        var random = new Random(seed);
        var vendors = new List<Vendor>();
        var truth = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (names.Count < companies)
        {
            var words = random.Next(3) == 0
                ? $"{first[random.Next(first.Length)]} {first[random.Next(first.Length)]} {second[random.Next(second.Length)]}"
                : $"{first[random.Next(first.Length)]} {second[random.Next(second.Length)]}";
            names.Add(words);
        }

        var company = 0;
        foreach (var words in names)
        {
            var name = $"{words} {forms[random.Next(forms.Length)]}";
            var code = $"V{vendors.Count + 1:0000}";
            vendors.Add(new Vendor(code, name));
            truth[code] = $"C{company}";
            if (company < duplicated)
            {
                var duplicateCode = $"V{vendors.Count + 1:0000}";
                vendors.Add(new Vendor(duplicateCode, PrintedNameVariants.Variant(name, random)));
                truth[duplicateCode] = $"C{company}";
            }

            company++;
        }

        return (vendors, truth);
    }
}
