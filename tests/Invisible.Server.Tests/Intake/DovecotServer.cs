using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using MimeKit;

namespace Invisible.Server.Tests.Intake;

/// <summary>
/// A real Dovecot IMAP server on loopback for the mailbox polling tests: its own config, maildirs, sockets and log in a
/// temporary directory, one plain-password user, no TLS. Started once per test class; each test uses its own user.
/// </summary>
public sealed class DovecotServer : IAsyncLifetime
{
    public const string Program = "/usr/sbin/dovecot";
    private const string UnprivilegedUser = "nobody";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"invisible-dovecot-{Guid.NewGuid():N}");
    private Process? _process;

    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    /// <summary>Plain passwords of the users the config declares (user1 … user9).</summary>
    public IReadOnlyDictionary<string, string> Users { get; } =
        Enumerable.Range(1, 9).ToDictionary(i => $"user{i}", _ => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));

    private int _nextUser;

    /// <summary>A user no other test of this run has used.</summary>
    public (string User, string Password) NewUser()
    {
        var user = $"user{Interlocked.Increment(ref _nextUser)}";
        return (user, Users[user]);
    }

    public async Task InitializeAsync()
    {
        if (!File.Exists(Program))
        {
            throw new InvalidOperationException($"{Program} is missing: install dovecot-imapd (scripts/bootstrap.sh test does).");
        }

        Directory.CreateDirectory(_directory);
        Port = FreePort();
        var (uid, gid) = Environment.IsPrivilegedProcess ? (65534, 65534) : ((int)getuid(), (int)getgid());
        var account = Environment.IsPrivilegedProcess ? UnprivilegedUser : Environment.UserName;
        await File.WriteAllLinesAsync(Path.Combine(_directory, "passwd"), Users.Select(user => $"{user.Key}:{{PLAIN}}{user.Value}:{uid}:{gid}::{_directory}/home/{user.Key}"));
        var config = Path.Combine(_directory, "dovecot.conf");
        await File.WriteAllTextAsync(config, $$"""
            protocols = imap
            listen = 127.0.0.1
            base_dir = {{_directory}}/run
            state_dir = {{_directory}}/state
            log_path = {{_directory}}/dovecot.log
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            default_internal_user = {{account}}
            default_internal_group = {{(Environment.IsPrivilegedProcess ? "nogroup" : account)}}
            default_login_user = {{account}}
            first_valid_uid = 1
            mail_location = maildir:~/Maildir
            passdb {
              driver = passwd-file
              args = {{_directory}}/passwd
            }
            userdb {
              driver = passwd-file
              args = {{_directory}}/passwd
            }
            service imap-login {
              inet_listener imap {
                address = 127.0.0.1
                port = {{Port}}
              }
              inet_listener imaps {
                port = 0
              }
              chroot =
            }
            service anvil {
              chroot =
            }
            """);
        // The mail processes run as the unprivileged account and create the users' maildirs below the temporary directory.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_directory, (UnixFileMode)Convert.ToInt32("777", 8));
        }

        _process = Process.Start(new ProcessStartInfo(Program, ["-F", "-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var client = await ConnectAsync(Users.First().Key, Users.First().Value);
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(100);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"Dovecot did not start: {Log()}", e);
            }
        }
    }

    public async Task<ImapClient> ConnectAsync(string user, string password)
    {
        var client = new ImapClient();
        await client.ConnectAsync(Host, Port, SecureSocketOptions.None);
        await client.AuthenticateAsync(user, password);
        return client;
    }

    /// <summary>Delivers a message the way a mail server would have: APPEND to the user's INBOX.</summary>
    public async Task AppendAsync(string user, string password, MimeMessage message)
    {
        using var client = await ConnectAsync(user, password);
        await client.Inbox.AppendAsync(message);
        await client.DisconnectAsync(true);
    }

    /// <summary>The subjects in each folder of the user's mailbox, INBOX first.</summary>
    public async Task<IReadOnlyDictionary<string, string[]>> FoldersAsync(string user, string password)
    {
        using var client = await ConnectAsync(user, password);
        var folders = new Dictionary<string, string[]>();
        var all = new List<IMailFolder> { client.Inbox };
        all.AddRange((await client.GetFolder(client.PersonalNamespaces[0]).GetSubfoldersAsync()).Where(folder => !folder.Attributes.HasFlag(FolderAttributes.Inbox)));
        foreach (var folder in all)
        {
            await folder.OpenAsync(FolderAccess.ReadOnly);
            var subjects = folder.Count == 0 ? [] : (await folder.FetchAsync(0, -1, new FetchRequest(MessageSummaryItems.Envelope))).Select(m => m.Envelope?.Subject ?? string.Empty).Order().ToArray();
            folders[folder.FullName] = subjects;
            await folder.CloseAsync();
        }

        await client.DisconnectAsync(true);
        return folders;
    }

    public string Log() => File.Exists(Path.Combine(_directory, "dovecot.log")) ? File.ReadAllText(Path.Combine(_directory, "dovecot.log")) : "(no log)";

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint getuid();

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint getgid();
}
