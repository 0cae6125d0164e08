using System.Text;
using System.Xml.Linq;
using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Tests.EInvoices;

/// <summary>
/// Seeded mutations of real CII, UBL and Factur-X PDF invoices, byte-level and element-level: whatever the document,
/// the reader accepts it whole or rejects it with reasons that name the file (and the element, where there is one); it
/// never throws, never hangs, and never hands rows of a rejected document to the sink.
/// </summary>
public sealed class EInvoiceMutationFuzzTests
{
    private const int Cases = 2_400;
    private static readonly TimeSpan PerCaseTimeout = TimeSpan.FromSeconds(20);

    [EInvoiceCorpusFact]
    public async Task Mutated_e_invoices_are_accepted_whole_or_rejected_with_reasons_naming_the_file()
    {
        string[] sources =
        [
            EInvoiceCorpus.Folder("xml-rechnung", "cii", "EN16931_Einfach.cii.xml"),
            EInvoiceCorpus.Folder("xml-rechnung", "cii", "EN16931_Rechnungskorrektur.cii.xml"),
            EInvoiceCorpus.Folder("xrechnung-testsuite", "01.21a-INVOICE_uncefact.xml"),
            EInvoiceCorpus.Folder("xml-rechnung", "ubl", "EN16931_Einfach.ubl.xml"),
            EInvoiceCorpus.Folder("xml-rechnung", "ubl", "ubl-tc434-creditnote1.xml"),
            EInvoiceCorpus.Folder("xrechnung-testsuite", "03.04a-INVOICE_ubl.xml"),
            EInvoiceCorpus.Folder("xml-rechnung", "fx", "EN16931_Einfach.pdf"),
            EInvoiceCorpus.Folder("zugferd-fail", "FNFE-factur-x-examples_Avoir_FR_type381_MINIMUM.pdf"),
        ];
        var originals = sources.Select(File.ReadAllBytes).ToArray();
        var random = new Random(20261207);
        var failures = new List<string>();
        var outcomes = new int[2];

        for (var i = 0; i < Cases; i++)
        {
            var which = i % sources.Length;
            var name = Path.GetFileName(sources[which]);
            var (mutation, bytes) = name.EndsWith(".pdf", StringComparison.Ordinal) ? MutateBytes(originals[which], random) : MutateXml(originals[which], random);
            var (accepted, problem) = await ReadWithTimeoutAsync(name, bytes);
            if (problem is not null && failures.Count < 20)
            {
                failures.Add($"case {i} ({mutation} of {name}): {problem}");
            }

            outcomes[accepted ? 1 : 0]++;
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.True(outcomes[0] > Cases / 4 && outcomes[1] > Cases / 20,
            $"{outcomes[0]} rejected, {outcomes[1]} accepted of {Cases}: the mutations are too weak or too strong to test anything");
    }

    private static async Task<(bool Accepted, string? Problem)> ReadWithTimeoutAsync(string name, byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(PerCaseTimeout);
        var delivered = new List<InvoiceLineRow>();
        try
        {
            var result = await ImportReader.ReadAsync<InvoiceLineRow>(new MemoryStream(bytes), name, ImportOptions.Default, InMemoryReferenceData.Empty,
                (batch, _) =>
                {
                    delivered.AddRange(batch);
                    return ValueTask.CompletedTask;
                }, progress: null, timeout.Token).WaitAsync(timeout.Token);
            if (result.Accepted)
            {
                return result.Errors.Count == 0 && delivered.Count == result.RowCount && delivered.Count > 0
                    && delivered.All(r => r.InvoiceNumber == delivered[0].InvoiceNumber && r.InvoiceTotal == delivered[0].InvoiceTotal)
                    ? (true, null)
                    : (true, $"accepted with errors, without rows or with rows of different invoices ({delivered.Count} rows, {result.Errors.Count} errors)");
            }

            var unnamed = result.Errors.FirstOrDefault(e => e.FileName != name || e.Reason.Length == 0);
            return delivered.Count == 0 && result.Errors.Count > 0 && unnamed is null
                ? (false, null)
                : (false, $"rejected with {delivered.Count} rows delivered, {result.Errors.Count} errors, first unnamed: {unnamed}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return (false, $"did not finish within {PerCaseTimeout}");
        }
        catch (Exception e)
        {
            return (false, $"threw {e}");
        }
    }

    /// <summary>Element-level mutations keep the XML well-formed, so they reach the mapping; byte-level ones reach the parser.</summary>
    private static (string Mutation, byte[] Bytes) MutateXml(byte[] original, Random random)
    {
        if (random.Next(3) == 0)
        {
            return MutateBytes(original, random);
        }

        var document = XDocument.Load(new MemoryStream(original), LoadOptions.PreserveWhitespace);
        var elements = document.Root!.Descendants().ToList();
        var leaves = elements.Where(e => !e.HasElements).ToList();
        string mutation;
        switch (random.Next(6))
        {
            case 0:
                var removed = elements[random.Next(elements.Count)];
                mutation = $"removed {removed.Name.LocalName}";
                removed.Remove();
                break;
            case 1:
                var duplicated = elements[random.Next(elements.Count)];
                mutation = $"duplicated {duplicated.Name.LocalName}";
                duplicated.AddAfterSelf(new XElement(duplicated));
                break;
            case 2:
                var leaf = leaves[random.Next(leaves.Count)];
                var junk = random.Next(8) switch
                {
                    0 => "",
                    1 => "-1",
                    2 => "1e3",
                    3 => "79228162514264337593543950335",
                    4 => "0",
                    5 => "12,50",
                    6 => new string('9', random.Next(1, 40)) + "." + new string('9', random.Next(1, 40)),
                    _ => "\u202Egarbage\u0000".Replace("\u0000", "", StringComparison.Ordinal),
                };
                mutation = $"{leaf.Name.LocalName} = '{junk}'";
                leaf.Value = junk;
                break;
            case 3:
                var numeric = leaves.Where(l => decimal.TryParse(l.Value, System.Globalization.CultureInfo.InvariantCulture, out _)).ToList();
                var target = numeric.Count > 0 ? numeric[random.Next(numeric.Count)] : leaves[random.Next(leaves.Count)];
                mutation = $"{target.Name.LocalName} negated";
                target.Value = target.Value.StartsWith('-') ? target.Value[1..] : "-" + target.Value;
                break;
            case 4:
                var renamed = elements[random.Next(elements.Count)];
                mutation = $"renamed {renamed.Name.LocalName}";
                renamed.Name = renamed.Name.Namespace + (renamed.Name.LocalName + "X");
                break;
            default:
                var emptied = elements[random.Next(elements.Count)];
                mutation = $"emptied {emptied.Name.LocalName}";
                emptied.RemoveNodes();
                break;
        }

        var output = new MemoryStream();
        document.Save(output);
        return (mutation, output.ToArray());
    }

    private static (string Mutation, byte[] Bytes) MutateBytes(byte[] original, Random random)
    {
        var bytes = original.ToList();
        int At() => random.Next(bytes.Count);
        switch (random.Next(6))
        {
            case 0:
                return ("truncation", original[..random.Next(original.Length)]);
            case 1:
                for (var n = random.Next(1, 16); n > 0; n--)
                {
                    bytes[At()] = (byte)random.Next(256);
                }

                return ("random bytes", [.. bytes]);
            case 2:
                var start = At();
                bytes.RemoveRange(start, Math.Min(random.Next(1, 4096), bytes.Count - start));
                return ("deleted range", [.. bytes]);
            case 3:
                var from = At();
                var length = Math.Min(random.Next(1, 4096), bytes.Count - from);
                bytes.InsertRange(At(), bytes.GetRange(from, length));
                return ("copied range", [.. bytes]);
            case 4:
                bytes.InsertRange(At(), Encoding.ASCII.GetBytes("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>&e;"));
                return ("entity", [.. bytes]);
            default:
                bytes.InsertRange(At(), Enumerable.Repeat((byte)'x', random.Next(10_000, 1_000_000)));
                return ("huge text", [.. bytes]);
        }
    }
}
