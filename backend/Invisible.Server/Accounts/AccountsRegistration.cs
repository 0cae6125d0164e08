using Invisible.Identity.Tokens;
using Invisible.Server.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Accounts;

public static class AccountsRegistration
{
    /// <summary>
    /// Accounts, sessions and tenant administration, and who may call what: the caller's authentication (bearer token or
    /// API key, checked against the database) and the access policies every RPC method declares.
    /// </summary>
    public static IServiceCollection AddAccounts(this IServiceCollection services)
    {
        services.AddOptions<AccountsOptions>().BindConfiguration(AccountsOptions.Section);
        services.AddOptions<AccessTokenOptions>().BindConfiguration(AccessTokenOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AccessTokenService>();
        services.AddSingleton<MfaSecretVault>();
        services.AddSingleton<RecoveryCodeKey>();
        services.AddHostedService<SecondFactorKeysCheck>();
        services.AddSingleton<MfaSecretResealing>();
        services.AddHostedService(provider => provider.GetRequiredService<MfaSecretResealing>());
        services.AddSingleton<RecoveryCodeWrapping>();
        services.AddHostedService(provider => provider.GetRequiredService<RecoveryCodeWrapping>());
        services.AddSingleton<SignInThrottles>();
        services.AddSingleton<AuthRateLimiter>();
        services.AddSingleton<CallerVerification>();
        services.AddSingleton<IpAllowlists>();
        services.AddSingleton<StreamSessions>();
        services.AddScoped<Sessions>();
        services.AddScoped<Authentication>();
        services.AddScoped<MultiFactor>();
        services.AddScoped<TenantAdministration>();
        services.TryAddSingleton<Hosting.PublicLinks>();
        services.AddSingleton<PasswordResetRequestLimits>();
        services.AddSingleton<PasswordResetQueue>();
        services.AddScoped<PasswordRecovery>();
        services.AddSingleton<PasswordResetMailer>();
        services.AddHostedService(provider => provider.GetRequiredService<PasswordResetMailer>());
        services.AddCallerAuthentication();
        services.AddSingleton<SignInRateLimitInterceptor>();
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions>().Configure(grpc => grpc.Interceptors.Add<SignInRateLimitInterceptor>());
        return services;
    }

    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<AuthServiceHandler>();
        endpoints.MapGrpcService<AdminServiceHandler>();
        return endpoints;
    }
}
