using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Invisible.Identity.Tokens;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Invisible.Server.Tests.Attacks;

/// <summary>
/// Variants of a genuine access token that an attacker can make: each keeps the genuine claims (user, tenant, session,
/// security stamp) and changes one thing. All but <see cref="RaisedRoleAsync"/> must be refused as UNAUTHENTICATED.
/// </summary>
public sealed class ForgedTokens(IServiceProvider services, TimeProvider clock)
{
    /// <summary>Name and token of every variant that must not authenticate anyone.</summary>
    public async Task<IReadOnlyList<(string Kind, string Token)>> RefusedVariantsAsync(string genuine)
    {
        var key = await ProductKeyAsync();
        var stranger = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = "attacker-kid" };
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        return
        [
            ("alg none", Unsigned(Payload(genuine))),
            ("unknown kid", Sign(Payload(genuine), stranger)),
            ("known kid, signed with another key", Sign(Payload(genuine), new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = key.KeyId })),
            ("expired", Sign(With(Payload(genuine), ("iat", now - 3600), ("nbf", now - 3600), ("exp", now - 900)), key)),
            ("not yet valid", Sign(With(Payload(genuine), ("iat", now + 3600), ("nbf", now + 3600), ("exp", now + 4500)), key)),
            ("wrong audience", Sign(With(Payload(genuine), ("aud", "someone-else")), key)),
            ("wrong issuer", Sign(With(Payload(genuine), ("iss", "attacker")), key)),
            ("no expiry", Sign(Without(Payload(genuine), "exp"), key)),
            ("HS512 instead of HS256", Sign(Payload(genuine), key, SecurityAlgorithms.HmacSha512)),
            ("tampered signature", genuine[..^4] + (genuine.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA")),
            ("garbage", "not.a.token"),
        ];
    }

    /// <summary>The genuine token re-signed with the product's own key (as after a key leak) claiming admin and a second factor.</summary>
    public async Task<string> RaisedRoleAsync(string genuine) =>
        Sign(With(Payload(genuine), ("role", Identity.Roles.Admin), ("amr", new JsonArray("pwd", "otp"))), await ProductKeyAsync());

    private async Task<SymmetricSecurityKey> ProductKeyAsync()
    {
        var secret = await services.GetRequiredService<ISecretStore>().GetSecretAsync(SecretNames.JwtSigningKey, CancellationToken.None);
        return SigningKeyRing.FromSecret(secret).Active.ToSecurityKey();
    }

    private static JsonObject Payload(string token) =>
        JsonNode.Parse(Base64UrlEncoder.Decode(token.Split('.')[1]))!.AsObject();

    private static JsonObject With(JsonObject payload, params (string Name, JsonNode? Value)[] changes)
    {
        foreach (var (name, value) in changes)
        {
            payload[name] = value;
        }

        return payload;
    }

    private static JsonObject Without(JsonObject payload, string name)
    {
        payload.Remove(name);
        return payload;
    }

    private static string Sign(JsonObject payload, SecurityKey key, string algorithm = SecurityAlgorithms.HmacSha256) =>
        new JsonWebTokenHandler().CreateToken(payload.ToJsonString(), new SigningCredentials(key, algorithm));

    private static string Unsigned(JsonObject payload) =>
        $"{Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payload.ToJsonString()))}.";
}
