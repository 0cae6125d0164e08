using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Vendors;
using Xunit.Abstractions;

namespace Invisible.Reconciliation.Tests;

/// <summary>
/// Vendor resolution on real company names: the master holds the registered names of large listed companies (AEX, DAX
/// and NYSE, as their annual reports and Wikipedia's company articles give them), the printed names are spellings such
/// names take in invoices and exported master data (escapes, legal forms in any spelling, trailing places, acronyms,
/// transliterations, typos), and some are other real companies that share words with a master vendor (plus one made-up
/// name between two master names, Bayer Motoren GmbH), which must stay unresolved. Wrong vendors are what must never
/// happen; what is not resolved goes to a reviewer.
/// </summary>
public class RealNameResolutionTests(ITestOutputHelper output)
{
    internal static readonly Vendor[] Master =
    [
        new("ASML", "ASML Holding N.V."),
        new("PHIL", "Koninklijke Philips N.V."),
        new("HEIN", "Heineken N.V."),
        new("AHOL", "Koninklijke Ahold Delhaize N.V."),
        new("WOLK", "Wolters Kluwer N.V."),
        new("KPN", "Koninklijke KPN N.V."),
        new("RAND", "Randstad N.V."),
        new("UNIL", "Unilever PLC"),
        new("SIEM", "Siemens Aktiengesellschaft"),
        new("SAP", "SAP SE"),
        new("BMW", "Bayerische Motoren Werke Aktiengesellschaft"),
        new("DTEL", "Deutsche Telekom AG"),
        new("DPOS", "Deutsche Post AG"),
        new("DBNK", "Deutsche Bank Aktiengesellschaft"),
        new("VW", "Volkswagen AG"),
        new("ALLI", "Allianz SE"),
        new("BAYR", "Bayer Aktiengesellschaft"),
        new("NEST", "Nestlé S.A."),
        new("LORE", "L'Oréal S.A."),
        new("IBM", "International Business Machines Corporation"),
        new("HPE", "Hewlett Packard Enterprise Company"),
        new("PG", "The Procter & Gamble Company"),
        new("JNJ", "Johnson & Johnson"),
        new("ATT", "AT&T Inc."),
    ];

    /// <summary>Printed name and the vendor it is (null: a company not in the master, which must stay unresolved).</summary>
    public static readonly (string Printed, string? Vendor)[] Printed =
    [
        ("ASML HOLDING NV", "ASML"),
        ("ASML Holding N. V., VELDHOVEN", "ASML"),
        ("Koninklijke Philips N.V., EINDHOVEN, NL", "PHIL"),
        ("KONINKLIJKE PHILIPS NV", "PHIL"),
        ("HEINEKEN N. V.", "HEIN"),
        ("Heineken NV, AMSTERDAM", "HEIN"),
        ("Koninklijke Ahold Delhaize NV", "AHOL"),
        ("WOLTERS KLUWER N.V., ALPHEN AAN DEN RIJN", "WOLK"),
        ("Wolters Kluwer NV", "WOLK"),
        ("Koninklijke KPN NV, DEN HAAG", "KPN"),
        ("RANDSTAD N.V", "RAND"),
        ("Unilever plc", "UNIL"),
        ("Siemens AG", "SIEM"),
        ("SIEMENS AKTIENGESELLSCHAFT, MUENCHEN", "SIEM"),
        ("SAP SE, WALLDORF, DE", "SAP"),
        ("Bayerische Motoren Werke AG", "BMW"),
        ("BMW AG", "BMW"),
        ("Deutsche Telekom", "DTEL"),
        ("DEUTSCHE POST AG, BONN", "DPOS"),
        ("Deutsche Bank AG", "DBNK"),
        ("Volkswagen Aktiengesellschaft", "VW"),
        ("Volkswagon AG", "VW"),
        ("Allianz SE", "ALLI"),
        ("BAYER AG", "BAYR"),
        ("Nestle SA", "NEST"),
        ("NESTLE S.A., VEVEY", "NEST"),
        ("L'OREAL", "LORE"),
        ("L&#39;Oreal SA", "LORE"),
        ("International Business Machines Corp", "IBM"),
        ("IBM", "IBM"),
        ("IBM Corp.", "IBM"),
        ("Hewlett Packard Enterprise Co", "HPE"),
        ("Hewlett-Packard Enterprise", "HPE"),
        ("The Procter &amp; Gamble Company", "PG"),
        ("PROCTER &AMP; GAMBLE CO", "PG"),
        ("Procter and Gamble", "PG"),
        ("Johnson &amp; Johnson", "JNJ"),
        ("AT&amp;T Inc", "ATT"),
        ("AT&T", "ATT"),
        ("Deutsche Bahn AG", null),
        ("Deutsche Börse AG", null),
        ("Shell plc", null),
        ("Philip Morris International Inc.", null),
        ("Heidelberg Materials AG", null),
        ("ASM International N.V.", null),
        ("Johnson Controls International plc", null),
        ("Siemens Energy AG", null),
        ("International Paper Company", null),
        ("Bayer Motoren GmbH", null),
        ("Volkswagen Financial Services AG", null),
    ];

    /// <summary>
    /// Wrong vendors measured on this set: none since a printed word none of the vendor's names has ("Siemens Energy AG")
    /// leaves the invoice to a reviewer. Each one a change adds here makes the gate looser: keep it empty.
    /// </summary>
    private static readonly HashSet<string> KnownWrongVendors = new(StringComparer.Ordinal);

    /// <summary>Resolved correctly when this set was made, per model: the resolution rate may only go up.</summary>
    private static readonly Dictionary<string, int> ResolvedAtLeast = new(StringComparer.Ordinal) { ["prior"] = 39, ["trained"] = 39 };

    [Fact]
    public void Real_company_names_resolve_no_worse_than_measured_and_without_new_wrong_vendors()
    {
        var directory = new VendorDirectory(Master);
        var models = new[] { ("prior", SimilarityModel.Prior), ("trained", SimilarityModelTrainer.Train(Master, [], version: 1)) };
        var failures = new List<string>();
        foreach (var (modelName, model) in models)
        {
            var resolver = new VendorResolver(directory, model);
            int resolved = 0, known = 0, wrong = 0;
            foreach (var (printed, expected) in Printed)
            {
                var actual = resolver.Resolve(printed, null, null).Vendor?.Code;
                known += expected is null ? 0 : 1;
                resolved += expected is not null && actual == expected ? 1 : 0;
                if (actual is not null && actual != expected)
                {
                    wrong++;
                    failures.Add($"{modelName}: '{printed}' resolved to {actual}, is {expected ?? "no master vendor"}");
                }
                else if (actual is null && expected is not null)
                {
                    output.WriteLine($"{modelName}: '{printed}' unresolved (is {expected})");
                }
            }

            output.WriteLine($"{modelName} model: resolved {resolved}/{known} ({100.0 * resolved / known:0.0} %), " +
                $"wrong vendor {wrong}/{Printed.Length} ({100.0 * wrong / Printed.Length:0.0} %)");
            if (resolved < ResolvedAtLeast[modelName])
            {
                failures.Add($"{modelName}: resolved {resolved}, fewer than the {ResolvedAtLeast[modelName]} measured");
            }
        }

        failures.RemoveAll(KnownWrongVendors.Contains);
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }
}
