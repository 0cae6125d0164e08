using System.Text;
using Invisible.Ingestion.Mail;
using MimeKit;
using static Invisible.Ingestion.Tests.Mail.MailShapes;

namespace Invisible.Ingestion.Tests.Mail;

/// <summary>
/// Seeded mutations of a message with every shape the reader handles (attachments, a zip, a forwarded message): whatever
/// the bytes, reading finishes, never throws, and never yields part of something: a zip is unpacked whole or not at
/// all, and a part that is not used carries no bytes.
/// </summary>
public sealed class MailMutationTests
{
    private const int Cases = 2_000;
    private static readonly TimeSpan PerCaseTimeout = TimeSpan.FromSeconds(10);
    private static readonly string[] ZipEntries = ["invoices.zip/a.csv", "invoices.zip/b.xml"];

    [Fact]
    public async Task Mutated_messages_are_read_without_crash_hang_or_partial_data()
    {
        var original = Original();
        var random = new Random(20261207);
        var failures = new List<string>();
        var withParts = 0;
        for (var i = 0; i < Cases && failures.Count < 10; i++)
        {
            var (mutation, bytes) = Mutate(original, random);
            using var timeout = new CancellationTokenSource(PerCaseTimeout);
            try
            {
                var reading = await Task.Run(() => MailReader.Read(new MemoryStream(bytes), MailReadingLimits.Default, timeout.Token), timeout.Token)
                    .WaitAsync(timeout.Token);
                withParts += reading.Parts.Count > 0 ? 1 : 0;
                if (Problem(reading) is { } problem)
                {
                    failures.Add($"case {i} ({mutation}): {problem}");
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                failures.Add($"case {i} ({mutation}): did not finish within {PerCaseTimeout}");
            }
            catch (Exception exception)
            {
                failures.Add($"case {i} ({mutation}): threw {exception.GetType().Name}: {exception.Message}");
            }
        }

        Assert.True(failures.Count == 0 && withParts > Cases / 4,
            $"{withParts} of {Cases} mutated messages still had parts; failures:\n{string.Join('\n', failures)}");
    }

    private static string? Problem(MailReading reading)
    {
        if (reading.Parts.FirstOrDefault(p => p.Kind is MailPartKind.Ignored or MailPartKind.Unreadable && p.Size > 0) is { } carrying)
        {
            return $"{carrying.Path} is {carrying.Kind} but carries {carrying.Size} bytes";
        }

        var unpacked = reading.Parts.Where(p => p.Path.StartsWith("invoices.zip/", StringComparison.Ordinal)).Select(p => p.Path).ToArray();
        // All of its entries or none; a flipped byte may still rename one ("b.xml" → "b.xmb"), which is whole, not partial.
        return unpacked.Length > 0 && unpacked.Length != ZipEntries.Length
            ? $"the zip was unpacked in part: {string.Join(", ", unpacked)}"
            : null;
    }

    private static byte[] Original()
    {
        var zip = Zip(("a.csv", Encoding.UTF8.GetBytes(CsvText)), ("b.xml", Encoding.UTF8.GetBytes(UblText)));
        var forwarded = Message("original", Mixed(Text("inner"), Attachment("deep.xml", "application/xml", UblText, ContentEncoding.QuotedPrintable)));
        return Bytes(Message("Invoices", Mixed(
            new MultipartAlternative { Text("plain"), new TextPart(MimeKit.Text.TextFormat.Html) { Text = "<p>html</p>" } },
            Attachment("invoice.csv", "text/csv", CsvText),
            Attachment("invoices.zip", "application/zip", zip),
            Attachment("logo.png", "image/png", new byte[] { 0x89, 0x50, 0x4e, 0x47 }),
            Forwarded(forwarded))));
    }

    private static readonly string[] Insertions =
        ["\r\n", "--", "\r\n\r\n", "Content-Type: multipart/mixed; boundary=\"\"\r\n", "=?UTF-8?B?", "=\r\n", "\0", "Content-Transfer-Encoding: base64\r\n", "begin 644 x\r\n", "PK\u0003\u0004"];

    private static (string Mutation, byte[] Bytes) Mutate(byte[] original, Random random)
    {
        var bytes = original.ToList();
        var at = random.Next(bytes.Count);
        switch (random.Next(6))
        {
            case 0:
                for (var n = random.Next(1, 8); n > 0; n--)
                {
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                }

                return ("flip bytes", [.. bytes]);
            case 1:
                bytes.RemoveRange(at, Math.Min(random.Next(1, 400), bytes.Count - at));
                return ("delete range", [.. bytes]);
            case 2:
                var length = Math.Min(random.Next(1, 400), bytes.Count - at);
                bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                return ("duplicate range", [.. bytes]);
            case 3:
                return ("truncate", [.. bytes.Take(at)]);
            case 4:
                bytes.InsertRange(at, Encoding.UTF8.GetBytes(Insertions[random.Next(Insertions.Length)]));
                return ("insert syntax", [.. bytes]);
            default:
                var garbage = new byte[random.Next(1, 200)];
                random.NextBytes(garbage);
                bytes.InsertRange(at, garbage);
                return ("insert garbage", [.. bytes]);
        }
    }
}
