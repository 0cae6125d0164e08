using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Invisible.Server.Intake;

/// <summary>
/// The SMTP listener (SmtpServer): refuses unknown recipients at RCPT TO (550), announces and enforces the size limit,
/// offers STARTTLS when a certificate is configured, limits messages per sender IP, and answers 250 only once the
/// message is in the intake log, so a sender whose delivery failed retries and nothing is lost.
/// </summary>
public sealed class SmtpIntakeListener(
    IOptions<EmailIntakeOptions> options, IntakeRecipients recipients, EmailIntake intake, ILogger<SmtpIntakeListener> logger)
    : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly PartitionedRateLimiter<string> _perSender = PartitionedRateLimiter.Create<string, string>(ip =>
        RateLimitPartition.GetFixedWindowLimiter(ip, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.MessagesPerMinutePerIp,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));

    private IntakeRecipients Recipients => recipients;

    private EmailIntake Intake => intake;

    private ILogger Logger => logger;

    private SmtpServer.SmtpServer? _server;
    private Task? _running;

    /// <summary>Where the listener accepts connections; null until started.</summary>
    public IPEndPoint? BoundEndpoint { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var endpoint = new EndpointDefinitionBuilder()
            .Endpoint(new IPEndPoint(IPAddress.Parse(settings.Listen), settings.Port))
            .SessionTimeout(TimeSpan.FromMinutes(2));
        if (settings.CertificatePath is { Length: > 0 } certificate)
        {
            endpoint.Certificate(X509Certificate2.CreateFromPemFile(certificate, settings.CertificateKeyPath));
        }

        var serverOptions = new SmtpServerOptionsBuilder()
            .ServerName(settings.Domain)
            .Endpoint(endpoint.Build())
            .MaxMessageSize(settings.MaxMessageBytes, MaxMessageSizeHandling.Strict)
            .Build();
        var started = new TaskCompletionSource<IPEndPoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => started.TrySetResult((IPEndPoint)e.LocalEndPoint);
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listeners);
        services.Add(new Filter(this));
        services.Add(new Store(this));
        _server = new SmtpServer.SmtpServer(serverOptions, services);
        _server.SessionFaulted += (_, e) => logger.LogWarning(e.Exception, "An SMTP session failed");
        _running = _server.StartAsync(_stopping.Token);
        var first = await Task.WhenAny(started.Task, _running, Task.Delay(TimeSpan.FromSeconds(30), cancellationToken));
        if (first != started.Task)
        {
            await (first == _running ? _running : Task.FromException(new TimeoutException("The SMTP listener did not start within 30 s.")));
        }

        BoundEndpoint = await started.Task;
        logger.LogInformation("SMTP intake listening on {Endpoint} for *@{Domain}", BoundEndpoint, settings.Domain);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null || _running is null)
        {
            return;
        }

        _server.Shutdown();
        await _stopping.CancelAsync();
        try
        {
            await _running.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // stopping is what was asked
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _perSender.Dispose();
    }

    private static string RemoteAddress(ISessionContext context) =>
        context.Properties.TryGetValue(EndpointListener.RemoteEndPointKey, out var remote) && remote is IPEndPoint ip ? ip.Address.ToString() : "unknown";

    private sealed class Filter(SmtpIntakeListener listener) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
        {
            using var lease = listener._perSender.AttemptAcquire(RemoteAddress(context));
            if (!lease.IsAcquired)
            {
                throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.ServiceUnavailable, "Too many messages from your address; try again later"));
            }

            return Task.FromResult(true);
        }

        public async Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken) =>
            await listener.Recipients.FindTenantAsync(to.AsAddress(), cancellationToken) is not null;
    }

    private sealed class Store(SmtpIntakeListener listener) : IMessageStore
    {
        public async Task<SmtpResponse> SaveAsync(
            ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var raw = buffer.ToArray();
            try
            {
                var tenants = new HashSet<Guid>();
                foreach (var recipient in transaction.To)
                {
                    if (await listener.Recipients.FindTenantAsync(recipient.AsAddress(), cancellationToken) is { } tenant)
                    {
                        tenants.Add(tenant);
                    }
                }

                var received = new List<string>();
                foreach (var tenant in tenants)
                {
                    var result = await listener.Intake.ReceiveAsync(tenant, raw, IntakeSource.Smtp, cancellationToken);
                    received.Add($"#{result.MessageNo} {result.Status}");
                }

                return new SmtpResponse(SmtpReplyCode.Ok, $"Received as {string.Join(", ", received)}");
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // A temporary failure: the sender keeps the message and tries again, and the intake dedupes what did arrive.
                listener.Logger.LogError(exception, "Could not take in a message from {Remote}", RemoteAddress(context));
                return new SmtpResponse(SmtpReplyCode.Aborted, "Local error in processing; try again later");
            }
        }
    }
}
