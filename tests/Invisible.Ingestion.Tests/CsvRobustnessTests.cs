using System.Text.Json;
using Invisible.Ingestion.Canonical;
using Invisible.Ingestion.Csv;

namespace Invisible.Ingestion.Tests;

public sealed class CsvRobustnessTests
{
    public static TheoryData<string> SpectrumFiles() => Files("csv_spectrum/csvs", "*.csv");

    public static TheoryData<string> CsvkitFiles() => Files("csvkit_examples", "*.*");

    [SharedDataTheory]
    [MemberData(nameof(SpectrumFiles))]
    public async Task Csv_spectrum_file_parses_exactly_as_its_json_says(string name)
    {
        var directory = SharedData.Path("data", "csv_robustness", "csv_spectrum");
        await using var csv = File.OpenRead(Path.Combine(directory, "csvs", name));
        var expected = JsonSerializer.Deserialize<List<Dictionary<string, string>>>(
            File.ReadAllText(Path.Combine(directory, "json", Path.ChangeExtension(name, ".json")))
                .TrimStart() is var json && json.StartsWith('{') ? $"[{json}]" : json)!;

        var (table, errors) = await CsvTableReader.ReadAsync(csv, name, ImportOptions.Default with { Delimiter = ',' }, int.MaxValue, CancellationToken.None);

        Assert.True(table is not null, string.Join("; ", errors.Errors));
        var actual = table.Rows.Select(r => table.Header.Zip(r.Fields).ToDictionary(p => p.First, p => p.Second)).ToList();
        if (name == "location_coordinates.csv")
        {
            // csv-spectrum 2.0.0's own JSON has a different phone number than its CSV (1234567890 vs 2095257564);
            // every other value, including the stray quotes, must match.
            Assert.Equal("2095257564", actual[0]["Contact Phone Number"]);
            actual[0]["Contact Phone Number"] = expected[0]["Contact Phone Number"];
        }

        Assert.Equal(expected, actual);
    }

    [SharedDataTheory]
    [MemberData(nameof(CsvkitFiles))]
    public async Task Csvkit_example_reads_as_a_table_or_is_rejected_naming_the_line(string name)
    {
        var path = SharedData.Path("data", "csv_robustness", "csvkit_examples", name);

        await using (var content = File.OpenRead(path))
        {
            var (table, errors) = await CsvTableReader.ReadAsync(content, name, ImportOptions.Default, int.MaxValue, CancellationToken.None);
            if (table is null)
            {
                Assert.NotEmpty(errors.Errors);
                Assert.All(errors.Errors, e => Assert.True(e.Line >= 1, e.ToString()));
            }
            else
            {
                Assert.All(table.Rows, r => Assert.Equal(table.Header.Count, r.Fields.Count));
            }
        }

        // As a canonical file it can only be rejected (none has vendor columns), with reasons, never partly.
        var asVendors = await Import.BytesAsync<VendorRow>(await File.ReadAllBytesAsync(path), fileName: name);
        Assert.False(asVendors.Result.Accepted);
        Assert.Empty(asVendors.Rows);
        Assert.NotEmpty(asVendors.Result.Errors);
    }

    [SharedDataFact]
    public async Task Csvkit_hazards_are_read_with_the_right_encoding_and_shape()
    {
        async Task<CsvTable> Read(string name)
        {
            await using var content = File.OpenRead(SharedData.Path("data", "csv_robustness", "csvkit_examples", name));
            var (table, errors) = await CsvTableReader.ReadAsync(content, name, ImportOptions.Default, int.MaxValue, CancellationToken.None);
            Assert.True(table is not null, string.Join("; ", errors.Errors));
            return table;
        }

        Assert.Equal("ʤ", (await Read("test_utf8_bom.csv")).Rows[1].Fields[2]);
        Assert.Equal("foo", (await Read("test_utf8_bom.csv")).Header[0]);
        Assert.Equal("ʤ", (await Read("test_utf16_little.csv")).Rows[1].Fields[2]);
        Assert.Equal("ʤ", (await Read("test_utf16_big.csv")).Rows[1].Fields[2]);
        Assert.Equal("©", (await Read("test_latin1.csv")).Rows[1].Fields[2]);
        Assert.Equal(["a", "b", "c"], (await Read("dummy.tsv")).Header);
        Assert.Equal(["a", "b", "c"], (await Read("sniff_limit.csv")).Header);
        var mac = await Read("mac_newlines.csv");
        Assert.Equal("Once upon\ra time", mac.Rows[1].Fields[0]);
        Assert.Equal([2, 3], mac.Rows.Select(r => r.Line));
    }

    [SharedDataFact]
    public async Task Ragged_rows_and_nul_bytes_are_rejected_on_their_line()
    {
        async Task<IReadOnlyList<ImportError>> Errors(string name)
        {
            await using var content = File.OpenRead(SharedData.Path("data", "csv_robustness", "csvkit_examples", name));
            var (table, errors) = await CsvTableReader.ReadAsync(content, name, ImportOptions.Default, int.MaxValue, CancellationToken.None);
            Assert.Null(table);
            return errors.Errors;
        }

        Assert.Equal([2, 3], (await Errors("bad.csv")).Select(e => e.Line));
        var nul = Assert.Single(await Errors("null_byte.csv"));
        Assert.Equal(2, nul.Line);
        Assert.Contains("U+0000", nul.Reason, StringComparison.Ordinal);
    }

    private static TheoryData<string> Files(string folder, string pattern)
    {
        var data = new TheoryData<string>();
        var directory = SharedData.Root is null ? null : SharedData.Path("data", "csv_robustness", folder);
        foreach (var file in directory is null ? [] : Directory.GetFiles(directory, pattern).Order().ToArray())
        {
            data.Add(Path.GetFileName(file));
        }

        if (data.Count == 0)
        {
            data.Add("(shared data absent)");
        }

        return data;
    }
}
