using System.Text;
using System.Text.Json;
using Invisible.Platform.Blobs;
using Invisible.Platform.Email;
using Invisible.Platform.Embedded;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Tests.Embedded;

/// <summary>The embedded adapters that keep their data in files under the data directory.</summary>
public sealed class FileAdapterTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "invisible-platform-files-" + Guid.NewGuid().ToString("N")[..8]);

    private IOptions<RuntimeOptions> Runtime => Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory });

    private static CancellationToken Ct => TestTimeout.Token;

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task The_secrets_file_is_created_on_first_use_readable_by_its_owner_only_with_a_generated_signing_key()
    {
        using var store = new FileSecretStore(Runtime, NullLogger<FileSecretStore>.Instance);

        var key = await store.GetSecretAsync(SecretNames.JwtSigningKey, Ct);

        var path = Path.Combine(_dataDirectory, FileSecretStore.FileName);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.Equal(64, Convert.FromBase64String(key).Length);
        using var restarted = new FileSecretStore(Runtime, NullLogger<FileSecretStore>.Instance);
        Assert.Equal(key, await restarted.GetSecretAsync(SecretNames.JwtSigningKey, Ct));
    }

    [Fact]
    public async Task A_secret_the_file_does_not_define_is_an_error_naming_the_secret_and_the_file()
    {
        using var store = new FileSecretStore(Runtime, NullLogger<FileSecretStore>.Instance);

        var error = await Assert.ThrowsAsync<SecretNotFoundException>(() => store.GetSecretAsync(SecretNames.QuickBooksClientSecret, Ct));

        Assert.Contains(SecretNames.QuickBooksClientSecret, error.Message);
        Assert.Contains(FileSecretStore.FileName, error.Message);
    }

    [Fact]
    public async Task A_secrets_file_that_is_not_a_json_object_of_strings_is_reported_with_its_path()
    {
        Directory.CreateDirectory(_dataDirectory);
        await File.WriteAllTextAsync(Path.Combine(_dataDirectory, FileSecretStore.FileName), "{ \"jwt-signing-key\": 42 }", Ct);
        using var store = new FileSecretStore(Runtime, NullLogger<FileSecretStore>.Instance);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => store.GetSecretAsync(SecretNames.JwtSigningKey, Ct));

        Assert.Contains(FileSecretStore.FileName, error.Message);
    }

    [Fact]
    public async Task Blobs_round_trip_list_by_prefix_in_order_and_leave_no_temporary_file_behind()
    {
        var blobs = new FileSystemBlobStore(Runtime);

        await blobs.PutAsync("tenants/b/exports/results.csv", "v1"u8.ToArray(), Ct);
        await blobs.PutAsync("tenants/b/exports/results.csv", "v2"u8.ToArray(), Ct);
        await blobs.PutAsync("tenants/b/uploads/invoices.csv", "x"u8.ToArray(), Ct);
        await blobs.PutAsync("tenants/a/uploads/invoices.csv", "y"u8.ToArray(), Ct);

        Assert.Equal("v2"u8.ToArray(), await blobs.GetAsync("tenants/b/exports/results.csv", Ct));
        Assert.Equal(["tenants/b/exports/results.csv", "tenants/b/uploads/invoices.csv"], await blobs.ListAsync("tenants/b/", Ct));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dataDirectory, "blobs.tmp")));

        await blobs.DeleteAsync("tenants/b/exports/results.csv", Ct);
        await blobs.DeleteAsync("tenants/never/was.csv", Ct);
        Assert.Null(await blobs.GetAsync("tenants/b/exports/results.csv", Ct));
    }

    [Fact]
    public async Task Deleting_the_last_blob_of_a_folder_removes_the_emptied_folders_but_not_a_folder_with_blobs_left()
    {
        var store = new FileSystemBlobStore(Runtime);
        await store.PutAsync("tenants/t1/imports/files/a/000", new byte[] { 1 }, Ct);
        await store.PutAsync("tenants/t1/imports/files/a/001", new byte[] { 2 }, Ct);
        await store.PutAsync("tenants/t1/imports/files/b/000", new byte[] { 3 }, Ct);
        var files = Path.Combine(_dataDirectory, FileSystemBlobStore.FolderName, "tenants", "t1", "imports", "files");

        await store.DeleteAsync("tenants/t1/imports/files/a/000", Ct);
        var afterOne = Directory.Exists(Path.Combine(files, "a"));
        await store.DeleteAsync("tenants/t1/imports/files/a/001", Ct);
        await store.DeleteAsync("tenants/t1/imports/files/b/000", Ct);
        await store.PutAsync("tenants/t1/imports/files/b/000", new byte[] { 4 }, Ct); // a folder removed is made again by the next put

        Assert.True(afterOne);
        Assert.False(Directory.Exists(Path.Combine(files, "a")));
        Assert.Equal(["tenants/t1/imports/files/b/000"], await store.ListAsync("tenants/", Ct));
        Assert.True(Directory.Exists(Path.Combine(_dataDirectory, FileSystemBlobStore.FolderName)));
    }

    [Theory]
    [InlineData("../secrets.json")]
    [InlineData("tenants/../../secrets.json")]
    [InlineData("/etc/passwd")]
    [InlineData("tenants//x.csv")]
    [InlineData("tenants\\x.csv")]
    [InlineData("C:x.csv")]
    [InlineData("tenants/./x.csv")]
    [InlineData("")]
    public async Task A_blob_name_that_could_escape_the_blob_folder_is_refused(string name)
    {
        var blobs = new FileSystemBlobStore(Runtime);

        await Assert.ThrowsAsync<ArgumentException>(() => blobs.PutAsync(name, "x"u8.ToArray(), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => blobs.GetAsync(name, Ct));
        Assert.False(File.Exists(Path.Combine(_dataDirectory, "secrets.json")));
    }

    [Fact]
    public void An_e_mail_is_written_as_a_7_bit_rfc_5322_message_with_short_crlf_lines_that_reads_back_as_sent()
    {
        var message = new EmailMessage(
            [new EmailAddress("ap@example.com", "Müller, Accounts Payable"), new EmailAddress("cfo@example.com")],
            "Rechnung INV-7 überschreitet die Toleranz um 4 % — bitte prüfen, bevor sie freigegeben wird",
            "Hallo,\nINV-7 braucht eine Prüfung.");
        var sentAt = new DateTimeOffset(2026, 11, 22, 3, 4, 5, TimeSpan.FromHours(1));

        using var mime = EmailMimeMessage.Create(message, new EmailAddress("no-reply@invisible.local", "Invisible"), sentAt, "abc@invisible.local");
        using var written = new MemoryStream();
        mime.WriteTo(EmailMimeMessage.WireFormat, written);
        var text = Encoding.ASCII.GetString(written.ToArray());
        written.Position = 0;
        using var read = MimeKit.MimeMessage.Load(written);

        Assert.True(written.ToArray().All(b => b < 128), "the message must be 7-bit");
        Assert.DoesNotContain('\n', text.Replace("\r\n", "", StringComparison.Ordinal));
        Assert.All(text.Split("\r\n"), line => Assert.True(line.Length <= 78, $"line too long: {line}"));
        Assert.Equal(
            (sentAt, "abc@invisible.local", "no-reply@invisible.local", message.Subject, "Müller, Accounts Payable <ap@example.com>|cfo@example.com", message.TextBody),
            (read.Date, read.MessageId, read.From.Mailboxes.Single().Address, read.Subject,
             string.Join('|', read.To.Mailboxes.Select(m => m.Name is { Length: > 0 } ? $"{m.Name} <{m.Address}>" : m.Address)), read.TextBody));
    }

    [Fact]
    public void A_line_break_in_a_header_value_is_refused_so_text_cannot_inject_headers()
    {
        var message = new EmailMessage([new EmailAddress("ap@example.com")], "Hello\r\nBcc: victim@example.com", "x");

        Assert.Throws<ArgumentException>(() => EmailMimeMessage.Create(message, new EmailAddress("a@b.c"), DateTimeOffset.UtcNow, "id@b.c"));
    }

    [Fact]
    public async Task Without_smtp_an_e_mail_lands_as_an_eml_file_in_the_data_directory()
    {
        var sender = new EmlFileEmailSender(Runtime, Options.Create(new EmailOptions()), TimeProvider.System, NullLogger<EmlFileEmailSender>.Instance);

        await sender.SendAsync(new EmailMessage([new EmailAddress("ap@example.com")], "Digest", "3 exceptions", "<p>3 exceptions</p>"), Ct);

        var file = Assert.Single(Directory.GetFiles(Path.Combine(_dataDirectory, EmlFileEmailSender.FolderName), "*.eml"));
        var text = (await File.ReadAllTextAsync(file, Ct)).Replace("\r\n ", " ", StringComparison.Ordinal);
        Assert.Contains("Content-Type: multipart/alternative; boundary=", text);
        Assert.Contains("Content-Type: text/html; charset=utf-8", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Message-Id: <", text, StringComparison.OrdinalIgnoreCase);
    }
}
