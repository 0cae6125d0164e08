namespace Invisible.Server.FieldEncryption;

public static class FieldEncryptionRegistration
{
    /// <summary>
    /// Field-level encryption of personal and banking data: the keys from the secret store and the start-up sweep that seals
    /// existing rows (backfill) and re-seals values under a retired key (rotation).
    /// </summary>
    public static IServiceCollection AddFieldEncryption(this IServiceCollection services)
    {
        services.AddSingleton<PersonalDataKeys>();
        services.AddSingleton<PersonalDataSealing>();
        services.AddHostedService(provider => provider.GetRequiredService<PersonalDataSealing>());
        return services;
    }
}
