using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using Invisible.Reconciliation.Vendors;

namespace Invisible.Server.Matching;

/// <summary>
/// The stored JSON of a decision, written straight to UTF-8 (no intermediate objects or strings): the invoice's
/// explanation and evidence, and each line's explanation. Casing and names are those of
/// <see cref="MatchDecisionStore.EvidenceJson"/> (web casing, enums snake_case); the engine's own evidence records
/// (vendor evidence, PO candidates) go through a source-generated serializer with the same options, so a field the
/// engine adds is stored without a change here.
/// </summary>
/// <remarks>
/// A line's explanation carries its text, how it was paired and the figures it was decided on (prices, quantities,
/// receipts, the variance). It does not repeat what its decision already stores: the PO line (<c>purchase_order_line_id</c>,
/// hence its number, line and PO version), the tolerance rule (<c>match_decisions.tolerance_id</c>, the same rule for
/// every line of the invoice) or the quantity base (the received quantity for a 3-way line, the ordered one otherwise).
/// </remarks>
internal static class DecisionJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // The text only ever goes to PostgreSQL, which reads the unescaped characters as the escaped ones.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    /// <summary>Where a document starts in a <see cref="Buffer"/> and how long it is.</summary>
    internal readonly record struct Document(int Start, int Length);

    /// <summary>
    /// JSON documents written one after another into one growing array, each a slice of it. Reused chunk after chunk
    /// (<see cref="Clear"/>), so a run allocates it about once rather than once per chunk.
    /// </summary>
    internal sealed class Buffer : IDisposable
    {
        private readonly ArrayBufferWriter<byte> _bytes = new(1 << 20);
        private readonly Utf8JsonWriter _writer;

        public Buffer() => _writer = new Utf8JsonWriter(_bytes, WriterOptions);

        /// <summary>Forgets what was written; slices taken before are no longer valid.</summary>
        public void Clear()
        {
            _bytes.ResetWrittenCount();
            _writer.Reset(_bytes);
        }

        public Document Write<T>(T value, Action<Utf8JsonWriter, T> write)
        {
            var start = _bytes.WrittenCount;
            write(_writer, value);
            _writer.Flush();
            _writer.Reset(_bytes);
            return new Document(start, _bytes.WrittenCount - start);
        }

        /// <summary>A written document; valid until the buffer is written to after <see cref="Clear"/>.</summary>
        public ReadOnlyMemory<byte> Slice(Document document) => _bytes.WrittenMemory.Slice(document.Start, document.Length);

        public void Dispose() => _writer.Dispose();
    }

    public static void InvoiceExplanation(Utf8JsonWriter writer, InvoiceDecision decision)
    {
        writer.WriteStartObject();
        writer.WriteString("text", decision.Explanation);
        writer.WriteString("vendor", decision.Vendor.Explanation);
        writer.WriteString("po", decision.Po.Explanation);
        if (decision.Totals.AddsUp)
        {
            writer.WriteNull("totals");
        }
        else
        {
            writer.WriteString(
                "totals",
                $"The printed total {decision.Totals.PrintedTotal} differs from the sum of lines and taxes {decision.Totals.SumOfLines} by more than {decision.Totals.Tolerance}.");
        }

        writer.WriteEndObject();
    }

    public static void InvoiceEvidence(Utf8JsonWriter writer, InvoiceDecision decision)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("vendor");
        WriteStringOrNull(writer, "code", decision.VendorCode);
        WriteDouble(writer, "score", decision.Vendor.Score);
        writer.WritePropertyName("evidence");
        JsonSerializer.Serialize(writer, decision.Vendor.Evidence, DecisionJsonContext.Default.VendorEvidence);
        writer.WriteEndObject();

        writer.WriteStartObject("po");
        WriteStringOrNull(writer, "number", decision.Po.PoNumber);
        if (decision.Po.PoVersion is { } version)
        {
            writer.WriteNumber("version", version);
        }
        else
        {
            writer.WriteNull("version");
        }

        writer.WriteString("identifiedBy", SnakeCase(decision.Po.IdentifiedBy));
        writer.WritePropertyName("candidates");
        JsonSerializer.Serialize(writer, decision.Po.Candidates, DecisionJsonContext.Default.IReadOnlyListPoCandidate);
        writer.WriteEndObject();

        var totals = decision.Totals;
        writer.WriteStartObject("totals");
        WriteMoney(writer, "printed", totals.PrintedTotal);
        WriteMoney(writer, "sumOfLines", totals.SumOfLines);
        writer.WriteNumber("difference", totals.Difference);
        writer.WriteNumber("tolerance", totals.Tolerance);
        writer.WriteBoolean("addsUp", totals.AddsUp);
        writer.WriteEndObject();

        WriteStringOrNull(writer, "duplicateOf", decision.DuplicateOfInvoiceId);
        writer.WriteNumber("toleranceVersion", decision.ToleranceVersion);
        writer.WriteEndObject();
    }

    public static void LineExplanation(Utf8JsonWriter writer, LineDecision line)
    {
        writer.WriteStartObject();
        writer.WriteString("text", line.Explanation);
        writer.WriteString("pairedBy", SnakeCase(line.PairedBy));
        if (line.Evidence is { } evidence)
        {
            writer.WriteStartObject("evidence");
            writer.WriteNumber("poUnitPrice", evidence.PoUnitPrice);
            writer.WriteNumber("invoiceUnitPrice", evidence.InvoiceUnitPrice);
            writer.WriteNumber("priceVariancePercent", evidence.PriceVariancePercent);
            writer.WriteNumber("invoicedQuantity", evidence.InvoicedQuantity);
            writer.WriteNumber("cumulativeInvoiced", evidence.CumulativeInvoiced);
            writer.WriteNumber("received", evidence.Received);
            writer.WriteNumber("ordered", evidence.Ordered);
            writer.WriteBoolean("receiptRequired", evidence.ReceiptRequired);
            if (evidence.DescriptionSimilarity is { } similarity)
            {
                WriteDouble(writer, "descriptionSimilarity", similarity);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteMoney(Utf8JsonWriter writer, string name, Money money)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("amount", money.Amount);
        writer.WriteString("currency", money.Currency);
        writer.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>As <see cref="JsonNumberHandling.AllowNamedFloatingPointLiterals"/> writes it: NaN and infinities by name.</summary>
    private static void WriteDouble(Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteString(name, double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static string SnakeCase(PoIdentifiedBy value) => value switch
    {
        PoIdentifiedBy.None => "none",
        PoIdentifiedBy.PrintedReference => "printed_reference",
        PoIdentifiedBy.Inferred => "inferred",
        _ => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString()),
    };

    private static string SnakeCase(LinePairedBy value) => value switch
    {
        LinePairedBy.None => "none",
        LinePairedBy.Sku => "sku",
        LinePairedBy.Description => "description",
        _ => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString()),
    };
}

/// <summary>
/// The engine's evidence records, serialised with <see cref="MatchDecisionStore.EvidenceJson"/>'s options. They hold no
/// enums today; the test of the stored JSON compares these documents with the options themselves, so an enum added later
/// (which would need a <c>JsonStringEnumConverter&lt;T&gt;</c> here) is caught.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(VendorEvidence))]
[JsonSerializable(typeof(IReadOnlyList<PoCandidate>))]
internal sealed partial class DecisionJsonContext : JsonSerializerContext;
