using Microsoft.Extensions.DependencyInjection;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Auth.V1;
using Invisible.Identity.Mfa;
using Grpc.Core;

namespace Invisible.Server.Tests.Accounts;

/// <summary>A person of a test tenant; <see cref="MfaSecret"/> is what their authenticator app holds once enrolled.</summary>
public sealed class TestUser(string email, string password, string role)
{
    public string Email { get; } = email;

    public string Password { get; set; } = password;

    public string Role { get; } = role;

    public byte[]? MfaSecret { get; set; }
}

public static class Rpcs
{
    public static MethodDescriptor Auth(string name) => AuthReflection.Descriptor.Services[0].FindMethodByName(name);

    public static MethodDescriptor Admin(string name) => AdminReflection.Descriptor.Services[0].FindMethodByName(name);

    public static MethodDescriptor Imports(string name) => Contracts.Imports.V1.ImportsReflection.Descriptor.Services[0].FindMethodByName(name);
}

/// <summary>A tenant on the <see cref="AccountsServer"/>, with helpers that go through the real sign-in flows over gRPC.</summary>
public sealed class TestTenant(AccountsServer server, Guid id, string slug, string adminEmail, string adminPassword)
{
    public Guid Id { get; } = id;

    public string Slug { get; } = slug;

    public TestUser Admin { get; } = new(adminEmail, adminPassword, Identity.Roles.Admin);

    /// <summary>The product's database, for checking what the calls did (under this tenant's row-level security).</summary>
    public Data.Tenancy.TenantDatabase Database => server.Database;

    public Task<RpcReply> CallAsync(MethodDescriptor method, IMessage request, string? accessToken = null, string? apiKey = null, TimeSpan? deadline = null) =>
        server.Channel.CallAsync(method, request, accessToken, apiKey, deadline);

    public Task<RpcReply> SignInAsync(TestUser user, string? password = null) =>
        CallAsync(Rpcs.Auth("SignIn"), new SignInRequest { Email = user.Email, Password = password ?? user.Password });

    /// <summary>The current code of the user's app, one step after the last one used (each step is accepted once).</summary>
    public string NextCode(byte[] secret)
    {
        server.Clock.Advance(Totp.StepLength);
        return Totp.Code(secret, Totp.StepAt(server.Clock.GetUtcNow()));
    }

    /// <summary>Signs in with the password and the second factor (enrolling it first if needed): a session with full access.</summary>
    public async Task<Session> FullSessionAsync(TestUser user)
    {
        var signIn = (await SignInAsync(user)).As<SignInResponse>();
        if (signIn.NextStep == NextStep.VerifyMfa)
        {
            return (await CallAsync(Rpcs.Auth("VerifyMfa"), new VerifyMfaRequest { TotpCode = NextCode(user.MfaSecret!) }, signIn.Session.AccessToken)).As<Session>();
        }

        if (signIn.NextStep == NextStep.EnrolMfa)
        {
            return (await EnrolAsync(user, signIn.Session.AccessToken)).Session;
        }

        return signIn.Session;
    }

    public async Task<ConfirmMfaEnrolmentResponse> EnrolAsync(TestUser user, string accessToken)
    {
        var enrolment = (await CallAsync(Rpcs.Auth("BeginMfaEnrolment"), new BeginMfaEnrolmentRequest(), accessToken)).As<BeginMfaEnrolmentResponse>();
        user.MfaSecret = Base32.Decode(enrolment.SecretBase32);
        return (await CallAsync(Rpcs.Auth("ConfirmMfaEnrolment"), new ConfirmMfaEnrolmentRequest { TotpCode = NextCode(user.MfaSecret) }, accessToken))
            .As<ConfirmMfaEnrolmentResponse>();
    }

    /// <summary>
    /// The blind index a user's address is stored and found by (the address itself is stored only sealed), for tests that
    /// reach a user's row directly: <c>where email_index = @email</c>.
    /// </summary>
    public byte[] EmailIndexOf(string email) =>
        server.Server.Services.GetRequiredService<Invisible.Server.FieldEncryption.PersonalDataKeys>().IndexAsync(CancellationToken.None).GetAwaiter().GetResult().OfEmail(email)!;

    /// <summary>A new user of <paramref name="role"/>, invited by the administrator and accepted through the one-time link.</summary>
    public async Task<TestUser> AddUserAsync(string role)
    {
        var admin = await FullSessionAsync(Admin);
        var email = $"{role}-{Guid.NewGuid().ToString("N")[..6]}@{Slug}.example";
        var invitation = (await CallAsync(Rpcs.Admin("InviteUser"), new InviteUserRequest { Email = email, Role = role }, admin.AccessToken)).As<InviteUserResponse>();
        var user = new TestUser(email, "correct horse battery staple " + Guid.NewGuid().ToString("N")[..4], role);
        var accepted = await CallAsync(Rpcs.Auth("AcceptInvitation"),
            new AcceptInvitationRequest { InvitationToken = invitation.InvitationToken, Password = user.Password, DisplayName = role });
        Assert.Equal(StatusCode.OK, accepted.Status);
        return user;
    }
}
