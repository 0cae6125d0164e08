using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Contracts.Auth.V1;
using Invisible.Identity.Mfa;
using Invisible.Server.Hosting;
using Invisible.Server.Tenancy;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Cli.Tests.Operations;

/// <summary>
/// A restore is only useful if people can sign in to it: the TOTP secrets in the database are sealed with a key that lives in
/// the data directory's secrets file, so the backup must carry that key and the restore must put it back.
/// </summary>
public sealed class RestoredSignInTests : IDisposable
{
    private readonly TemporaryDirectory _source = new("invisible-mfa-backup-source-");
    private readonly TemporaryDirectory _restored = new("invisible-mfa-backup-restored-");

    [Fact]
    public async Task The_restored_product_signs_in_a_user_with_the_authenticator_code_enrolled_before_the_backup()
    {
        string email, password;
        byte[] secret;
        long enrolledStep;
        await using (var original = await StartAsync(_source.Path))
        {
            var admin = await ActivatorUtilities.CreateInstance<TenantOnboarding>(original.Services)
                .CreateAsync("mfa-restore", "MFA Restore Ltd", "EUR", "admin@mfa-restore.example", TenantOnboarding.OperatorActor, CancellationToken.None);
            (email, password) = (admin.Email, admin.Password);
            using var channel = GrpcChannel.ForAddress(original.Endpoints.Grpc);
            var auth = new AuthService.AuthServiceClient(channel);
            var signIn = await auth.SignInAsync(new SignInRequest { Email = email, Password = password });
            var bearer = Bearer(signIn.Session.AccessToken);
            var enrolment = await auth.BeginMfaEnrolmentAsync(new BeginMfaEnrolmentRequest(), bearer);
            secret = Base32.Decode(enrolment.SecretBase32);
            enrolledStep = Totp.StepAt(DateTimeOffset.UtcNow);
            await auth.ConfirmMfaEnrolmentAsync(new ConfirmMfaEnrolmentRequest { TotpCode = Totp.Code(secret, enrolledStep) }, bearer);
        }

        await RunAsync("backup", "--type", "full", "--data-dir", _source.Path);
        await RunAsync("restore", "--from", _source.Path, "--data-dir", _restored.Path, "--to", "latest");

        await using var restored = await StartAsync(_restored.Path);
        using var restoredChannel = GrpcChannel.ForAddress(restored.Endpoints.Grpc);
        var restoredAuth = new AuthService.AuthServiceClient(restoredChannel);
        var passwordStep = await restoredAuth.SignInAsync(new SignInRequest { Email = email, Password = password });
        // The step used at enrolment is spent (and restored as spent); the next one is within the accepted drift if the clock has not moved on.
        var step = Math.Max(Totp.StepAt(DateTimeOffset.UtcNow), enrolledStep + 1);
        var session = await restoredAuth.VerifyMfaAsync(
            new VerifyMfaRequest { TotpCode = Totp.Code(secret, step) }, Bearer(passwordStep.Session.AccessToken));

        Assert.True(passwordStep.NextStep == NextStep.VerifyMfa && session.MfaSatisfied && session.AccessToken.Length > 0,
            $"after the password: {passwordStep.NextStep}; after the code: mfa satisfied {session.MfaSatisfied}, access token issued {session.AccessToken.Length > 0}");
    }

    public void Dispose()
    {
        _source.Dispose();
        _restored.Dispose();
    }

    private static Metadata Bearer(string accessToken) => new() { { "authorization", $"Bearer {accessToken}" } };

    private static Task<InvisibleServer> StartAsync(string dataDirectory) => InvisibleServer.StartAsync(
        [$"--Server:DataDirectory={dataDirectory}", "--Server:HttpPort=0", "--Server:GrpcPort=0", "--Email:Intake:Imap:Enabled=false"],
        configure: null, CancellationToken.None);

    private static async Task RunAsync(params string[] arguments)
    {
        var result = await CliProcess.RunAsync(arguments);
        Assert.True(result.ExitCode == 0, $"invisible {string.Join(' ', arguments)} exited {result.ExitCode}: {result.Error}{result.Output}");
    }
}
