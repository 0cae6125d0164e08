using Grpc.Core;
using Invisible.Contracts.Auth.V1;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Platform.Secrets;
using Invisible.Server.Accounts;
using Invisible.Server.Hosting;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tests.Accounts;

/// <summary>The product's own limit of password reset requests per network (the shared server raises it for the suite).</summary>
public sealed class TightResetNetworkServer : AccountsServer
{
    public const int PerNetwork = 3;

    protected override IEnumerable<string> Settings =>
        [.. base.Settings.Where(setting => !setting.Contains("PasswordResetRequestsPerNetwork", StringComparison.Ordinal)), $"--Auth:PasswordResetRequestsPerNetwork={PerNetwork}"];
}

public sealed class PasswordRecoveryLimitTests(TightResetNetworkServer server) : IClassFixture<TightResetNetworkServer>
{
    [Fact]
    public async Task Requests_from_one_network_are_refused_past_the_limit_whichever_addresses_they_name()
    {
        var statuses = new List<StatusCode>();
        for (var i = 0; i <= TightResetNetworkServer.PerNetwork; i++)
        {
            statuses.Add((await server.Channel.CallAsync(Rpcs.Auth("RequestPasswordReset"),
                new RequestPasswordResetRequest { Email = $"someone-{i}-{Guid.NewGuid():N}@example.com" })).Status);
        }

        Assert.Equal([.. Enumerable.Repeat(StatusCode.OK, TightResetNetworkServer.PerNetwork), StatusCode.ResourceExhausted], statuses);
    }

    [Theory]
    [InlineData("192.0.2.17", "192.0.2.200", true)]
    [InlineData("192.0.2.17", "192.0.3.17", false)]
    [InlineData("2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::9", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("::ffff:192.0.2.17", "192.0.2.1", true)]
    public void Addresses_share_a_network_when_they_share_the_IPv4_slash_24_or_the_IPv6_slash_64(string one, string other, bool same) =>
        Assert.Equal(same, PasswordResetRequestLimits.NetworkOf(one) == PasswordResetRequestLimits.NetworkOf(other));
}

/// <summary>A product whose secret store lacks the TOTP encryption key refuses to start, naming the secret.</summary>
public sealed class SecondFactorKeysCheckTests
{
    [Fact]
    public async Task Start_up_refuses_without_the_totp_encryption_key_and_says_which_secret_to_restore()
    {
        using var directory = new TemporaryDirectory("invisible-no-totp-key-");

        var start = await Record.ExceptionAsync(async () =>
        {
            await using var started = await InvisibleServer.StartAsync(
                [$"--Server:DataDirectory={directory.Path}", "--Server:HttpPort=0", "--Server:GrpcPort=0", "--Email:Intake:Imap:Enabled=false"],
                builder => builder.Services.AddSingleton<ISecretStore>(provider =>
                    new WithoutSecret(new FileSecretStore(provider.GetRequiredService<IOptions<RuntimeOptions>>(), NullLogger<FileSecretStore>.Instance), SecretNames.TotpEncryptionKey)),
                CancellationToken.None);
        });

        var refusal = Assert.IsType<InvalidOperationException>(start);
        Assert.Contains($"'{SecretNames.TotpEncryptionKey}' is missing", refusal.Message, StringComparison.Ordinal);
    }

    /// <summary>The product's store with one secret gone (the embedded store would otherwise generate it).</summary>
    private sealed class WithoutSecret(ISecretStore inner, string missing) : ISecretStore
    {
        public Task<string> GetSecretAsync(string name, CancellationToken cancellationToken) =>
            name == missing ? throw new SecretNotFoundException(name, "test store without it") : inner.GetSecretAsync(name, cancellationToken);
    }
}
