using Invisible.Data.Tenancy;
using Invisible.Server.Hosting;
using Invisible.Server.Tenancy;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.Accounts;

/// <summary>A clock the tests move by hand (back-off, TOTP steps, token expiry) instead of sleeping.</summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// The real product (embedded PostgreSQL, h2c gRPC port) with a <see cref="ManualClock"/> as its <see cref="TimeProvider"/>.
/// Request-rate limits are raised so the many sign-ins of the suite are not refused; <see cref="RateLimitTests"/> has its own.
/// </summary>
public class AccountsServer : IAsyncLifetime
{
    private readonly TemporaryDirectory _directory = new("invisible-accounts-test-");

    public ManualClock Clock { get; } = new();

    public InvisibleServer Server { get; private set; } = null!;

    public GrpcTestChannel Channel { get; private set; } = null!;

    public TenantDatabase Database => Server.Services.GetRequiredService<TenantDatabase>();

    /// <summary>Where the product writes the e-mails it sends (embedded mode: one <c>.eml</c> file each).</summary>
    public string MailFolder => Path.Combine(_directory.Path, Platform.Embedded.EmlFileEmailSender.FolderName);

    // Streams check their session every second here (a minute in the product), so a test sees a sign-out reach one quickly.
    // Mailbox tests run their own pollers; the server's background one would chase their test mailboxes.
    protected virtual IEnumerable<string> Settings => ["--Email:Intake:Imap:Enabled=false", "--Auth:RateLimitPerMinute=100000", "--Auth:AddressMaxFailures=100000", "--Auth:StreamSessionCheckInterval=00:00:01", "--Auth:PasswordResetRequestsPerNetwork=100000", .. GenerousRequestLimits];

    /// <summary>Request-rate and concurrency limits far above what any test asks for; <c>RequestRateLimitTests</c> has its own.</summary>
    public static readonly string[] GenerousRequestLimits =
    [
        "--RateLimits:CallerBurst=1000000", "--RateLimits:CallerRequestsPerSecond=1000000",
        "--RateLimits:TenantBurst=1000000", "--RateLimits:TenantRequestsPerSecond=1000000",
        "--RateLimits:HeavyCallsPerTenant=1000", "--RateLimits:WatchStreamsPerCaller=1000",
    ];

    public async Task InitializeAsync()
    {
        Server = await InvisibleServer.StartAsync(
            [$"--Server:DataDirectory={_directory.Path}", "--Server:HttpPort=0", "--Server:GrpcPort=0", .. Settings],
            builder => builder.Services.AddSingleton<TimeProvider>(Clock),
            CancellationToken.None);
        Channel = new GrpcTestChannel(new Uri(Server.Endpoints.Grpc));
    }

    /// <summary>A new tenant with its first administrator (as <c>invisible tenant create</c> makes it).</summary>
    public async Task<TestTenant> NewTenantAsync()
    {
        var slug = "t-" + Guid.NewGuid().ToString("N")[..10];
        var admin = await ActivatorUtilities.CreateInstance<TenantOnboarding>(Server.Services)
            .CreateAsync(slug, "Tenant " + slug, "EUR", $"admin@{slug}.example", TenantOnboarding.OperatorActor, CancellationToken.None);
        var tenant = await Server.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(slug, CancellationToken.None);
        return new TestTenant(this, tenant!.Id, slug, admin.Email, admin.Password);
    }

    public async Task DisposeAsync()
    {
        Channel.Dispose();
        await Server.DisposeAsync();
        _directory.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class AccountsCollection : ICollectionFixture<AccountsServer>
{
    public const string Name = "accounts";
}
