using System.Text;

namespace Invisible.Ingestion.Tests;

public sealed class ImportOptionsParseTests
{
    [Theory]
    [InlineData(",", ',')]
    [InlineData(";", ';')]
    [InlineData("\t", '\t')]
    [InlineData("tab", '\t')]
    [InlineData("TAB", '\t')]
    [InlineData("Tab", '\t')]
    [InlineData("\\t", '\t')]
    [InlineData("\\T", '\t')]
    public void A_delimiter_is_read_as_the_command_line_and_the_api_write_it(string written, char expected)
    {
        var parsed = ImportOptions.Parse(culture: null, written, dateFormat: null, encoding: null);

        Assert.Empty(parsed.Errors);
        Assert.Equal(expected, parsed.Options!.Delimiter);
    }

    [Theory]
    [InlineData("|")]
    [InlineData("tabs")]
    [InlineData(" ")]
    [InlineData(",;")]
    public void A_delimiter_the_reader_cannot_use_is_an_error_naming_the_option_and_value(string written)
    {
        var parsed = ImportOptions.Parse(culture: null, written, dateFormat: null, encoding: null);

        Assert.Null(parsed.Options);
        var error = Assert.Single(parsed.Errors);
        Assert.Equal((ImportOption.Delimiter, written), (error.Option, error.Value));
        Assert.Contains("tab", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_given_leaves_every_option_to_detection()
    {
        foreach (var unset in new[] { null, "" })
        {
            var parsed = ImportOptions.Parse(unset, unset, unset, unset);

            Assert.Empty(parsed.Errors);
            Assert.Equal(ImportOptions.Default, parsed.Options);
        }
    }

    [Fact]
    public void Culture_date_format_and_encoding_are_read_by_name_whatever_their_case()
    {
        var parsed = ImportOptions.Parse("de-de", ";", "dd.MM.yyyy", "WINDOWS-1252");

        Assert.Empty(parsed.Errors);
        var options = parsed.Options!;
        Assert.Equal("de-DE", options.Culture!.Name);
        Assert.Equal("dd.MM.yyyy", options.DateFormat);
        Assert.Equal(Encoding.GetEncoding(1252).WebName, options.Encoding!.WebName);
    }

    [Fact]
    public void Every_value_that_cannot_be_used_is_reported_not_only_the_first()
    {
        var parsed = ImportOptions.Parse("xx-NOWHERE", "|", "dd.MM.yyyy", "no-such-encoding");

        Assert.Null(parsed.Options);
        Assert.Equal(
            [(ImportOption.Culture, "xx-NOWHERE"), (ImportOption.Delimiter, "|"), (ImportOption.Encoding, "no-such-encoding")],
            parsed.Errors.Select(error => (error.Option, error.Value)));
        Assert.All(parsed.Errors, error => Assert.Contains("; use ", error.Problem, StringComparison.Ordinal));
    }
}
