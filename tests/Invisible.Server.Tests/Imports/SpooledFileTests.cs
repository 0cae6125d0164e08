using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Invisible.Platform;
using Invisible.Server.Imports;
using Invisible.Testing;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tests.Imports;

/// <summary>
/// An import parses its spool through <see cref="SpooledFile.Stream"/> while it keeps the same bytes through
/// <see cref="SpooledFile.ReadAtAsync"/>. `bench match` once failed with "purchase_orders.csv:772: the row has 12 fields,
/// the header has 10" on a well-formed file: keeping re-read the handle through FileStream.SafeFileHandle, whose getter
/// flushes the stream's 64 KiB read buffer, so the parser re-read bytes of the record that straddled the buffer's edge.
/// </summary>
public sealed class SpooledFileTests : IDisposable
{
    private readonly TemporaryDirectory _dataDirectory = new("invisible-spooled-file-");

    [Fact]
    public async Task Reading_a_spool_at_offsets_while_the_parser_reads_its_stream_leaves_the_parser_every_byte_once()
    {
        var content = PurchaseOrderLines(megabytes: 8);
        var spools = new ImportSpools(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path }));
        await using var file = await SpooledFile.CopyAsync(spools, new MemoryStream(content), "purchase_orders.csv", copied: null, CancellationToken.None);
        using var parserDone = new CancellationTokenSource();

        var keeping = Task.Run(async () =>
        {
            var chunk = new byte[4096];
            for (long offset = 0; !parserDone.IsCancellationRequested; offset = (offset + 7919) % file.Length)
            {
                await file.ReadAtAsync(chunk, offset, CancellationToken.None);
            }
        });
        var parsed = new MemoryStream();
        var buffer = new byte[1000]; // smaller than the stream's buffer and not a divisor of it, as CsvHelper's reads are
        int read;
        while ((read = await file.Stream.ReadAsync(buffer)) > 0)
        {
            parsed.Write(buffer, 0, read);
            await Task.Yield();
        }

        await parserDone.CancelAsync();
        await keeping;

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), Convert.ToHexStringLower(SHA256.HashData(parsed.ToArray())));
    }

    private static byte[] PurchaseOrderLines(int megabytes)
    {
        var text = new StringBuilder("po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price,receipt_required\n");
        for (var i = 0; text.Length < megabytes << 20; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"PO-{10_000 + i / 4},V{1000 + i % 500},2026-01-16,USD,{i % 4 + 1},NORIN-{i % 97:D4},\"Hex bolt M8 x 40 zinc, box of 100\",{i % 200 + 1},18.27,true\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public void Dispose() => _dataDirectory.Dispose();
}
