using System.Net;
using System.Net.Sockets;
using System.Text;
using Invisible.Platform.Email;
using Invisible.Platform.Embedded;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Tests.Embedded;

/// <summary>Embedded mode's SMTP sender against a stand-in mail server on a real loopback socket.</summary>
public sealed class SmtpEmailSenderTests
{
    [Fact]
    public async Task A_message_is_handed_to_the_smtp_server_with_envelope_recipients_and_an_encoded_subject()
    {
        await using var server = StandInSmtpServer.Start();
        var options = Options.Create(new EmailOptions { Smtp = new SmtpOptions { Host = "127.0.0.1", Port = server.Port, UseTls = false } });
        var sender = new SmtpEmailSender(options, new NoSecrets(), TimeProvider.System, NullLogger<SmtpEmailSender>.Instance);

        await sender.SendAsync(
            new EmailMessage([new EmailAddress("ap@example.com", "Accounts Payable"), new EmailAddress("cfo@example.com")], "Prüfung nötig: INV-7", "Bitte prüfen."),
            TestTimeout.Token);

        var session = await server.Session.WaitAsync(TestTimeout.Token);
        Assert.Equal("<no-reply@invisible.local>", session.MailFrom);
        Assert.Equal(["<ap@example.com>", "<cfo@example.com>"], session.RecipientsTo);
        using var received = MimeKit.MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(session.Data)));
        Assert.Equal(("Prüfung nötig: INV-7", "Accounts Payable <ap@example.com>, cfo@example.com"), (received.Subject, string.Join(", ", received.To.Mailboxes.Select(m => m.Name is { Length: > 0 } ? $"{m.Name} <{m.Address}>" : m.Address))));
    }

    private sealed class NoSecrets : ISecretStore
    {
        public Task<string> GetSecretAsync(string name, CancellationToken cancellationToken) => throw new SecretNotFoundException(name, "test");
    }

    /// <summary>
    /// A stand-in for an SMTP relay, which cannot run here: the server side of RFC 5321 for one plain session (EHLO,
    /// MAIL, RCPT, DATA with dot-unstuffing, QUIT), recording the envelope and the message.
    /// </summary>
    private sealed class StandInSmtpServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly TaskCompletionSource<SmtpSession> _session = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Task _serving = Task.CompletedTask;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public Task<SmtpSession> Session => _session.Task;

        public static StandInSmtpServer Start()
        {
            var server = new StandInSmtpServer();
            server._listener.Start();
            server._serving = server.ServeOneSessionAsync();
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _serving;
        }

        private async Task ServeOneSessionAsync()
        {
            try
            {
                using var client = await _listener.AcceptTcpClientAsync();
                await using var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII);
                await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
                string? mailFrom = null;
                var recipients = new List<string>();
                await writer.WriteLineAsync("220 stand-in ESMTP");
                while (await reader.ReadLineAsync() is { } line)
                {
                    var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                    switch (verb)
                    {
                        case "EHLO" or "HELO":
                            await writer.WriteLineAsync("250 stand-in");
                            break;
                        case "MAIL":
                            mailFrom = line["MAIL FROM:".Length..].Trim();
                            await writer.WriteLineAsync("250 OK");
                            break;
                        case "RCPT":
                            recipients.Add(line["RCPT TO:".Length..].Trim());
                            await writer.WriteLineAsync("250 OK");
                            break;
                        case "DATA":
                            await writer.WriteLineAsync("354 end with <CRLF>.<CRLF>");
                            var data = new StringBuilder();
                            while (await reader.ReadLineAsync() is { } dataLine && dataLine != ".")
                            {
                                data.Append(dataLine.StartsWith("..", StringComparison.Ordinal) ? dataLine[1..] : dataLine).Append("\r\n");
                            }

                            await writer.WriteLineAsync("250 queued");
                            _session.TrySetResult(new SmtpSession(mailFrom, recipients, data.ToString()));
                            break;
                        case "QUIT":
                            await writer.WriteLineAsync("221 bye");
                            return;
                        default:
                            await writer.WriteLineAsync("502 not implemented");
                            break;
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
                _session.TrySetException(e);
            }
        }
    }

    private sealed record SmtpSession(string? MailFrom, IReadOnlyList<string> RecipientsTo, string Data);
}
