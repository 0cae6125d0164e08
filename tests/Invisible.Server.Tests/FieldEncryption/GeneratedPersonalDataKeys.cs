using System.Security.Cryptography;
using Invisible.Identity.Encryption;
using Invisible.Platform.Secrets;
using Invisible.Server.FieldEncryption;

namespace Invisible.Server.Tests.FieldEncryption;

/// <summary>
/// The product's <see cref="PersonalDataKeys"/> over keys generated once per test run, for tests that import and match
/// without a whole server (which would read them from its secret store).
/// </summary>
public static class GeneratedPersonalDataKeys
{
    public static readonly PersonalDataKeys Instance = new(new GeneratedSecrets());

    private sealed class GeneratedSecrets : ISecretStore
    {
        private readonly string _encryptionKey = EncryptionKeyRing.NewKeyBase64();
        private readonly string _indexKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

        public Task<string> GetSecretAsync(string name, CancellationToken cancellationToken) => name switch
        {
            SecretNames.PersonalDataEncryptionKey => Task.FromResult(_encryptionKey),
            SecretNames.BlindIndexKey => Task.FromResult(_indexKey),
            _ => throw new SecretNotFoundException(name, "the generated personal-data keys of the tests"),
        };
    }
}
