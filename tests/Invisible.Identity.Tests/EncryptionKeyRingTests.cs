using System.Security.Cryptography;
using System.Text;
using Invisible.Identity.Encryption;

namespace Invisible.Identity.Tests;

public sealed class EncryptionKeyRingTests
{
    private static readonly byte[] Secret = Encoding.ASCII.GetBytes("12345678901234567890");
    private static readonly byte[] RowOfAna = Encoding.ASCII.GetBytes("tenant-1:user-ana");
    private static readonly byte[] RowOfBen = Encoding.ASCII.GetBytes("tenant-1:user-ben");

    [Fact]
    public void A_sealed_value_opens_to_the_plaintext_and_does_not_contain_it()
    {
        var ring = EncryptionKeyRing.FromSecret(EncryptionKeyRing.NewKeyBase64());

        var sealedValue = ring.Seal(Secret, RowOfAna);

        Assert.Equal(ring.Active.Id, sealedValue.KeyId);
        Assert.Equal(-1, sealedValue.Ciphertext.AsSpan().IndexOf(Secret));
        Assert.Equal(Secret, ring.Open(sealedValue, RowOfAna));
    }

    [Fact]
    public void Sealing_twice_gives_different_ciphertexts()
    {
        var ring = EncryptionKeyRing.FromSecret(EncryptionKeyRing.NewKeyBase64());

        Assert.NotEqual(ring.Seal(Secret, RowOfAna).Ciphertext, ring.Seal(Secret, RowOfAna).Ciphertext);
    }

    [Fact]
    public void A_value_copied_to_another_row_or_altered_does_not_open()
    {
        var ring = EncryptionKeyRing.FromSecret(EncryptionKeyRing.NewKeyBase64());
        var sealedValue = ring.Seal(Secret, RowOfAna);
        var altered = sealedValue with { Ciphertext = [.. sealedValue.Ciphertext] };
        altered.Ciphertext[^1] ^= 1;

        Assert.ThrowsAny<CryptographicException>(() => ring.Open(sealedValue, RowOfBen));
        Assert.ThrowsAny<CryptographicException>(() => ring.Open(altered, RowOfAna));
        Assert.ThrowsAny<CryptographicException>(() => ring.Open(sealedValue with { Ciphertext = Secret }, RowOfAna));
    }

    [Fact]
    public void After_a_rotation_new_values_use_the_new_key_and_old_ones_open_until_their_key_is_dropped()
    {
        var (older, newer) = (EncryptionKeyRing.NewKeyBase64(), EncryptionKeyRing.NewKeyBase64());
        var beforeRotation = EncryptionKeyRing.FromSecret(older).Seal(Secret, RowOfAna);

        var rotated = EncryptionKeyRing.FromSecret($"{newer}\n{older}");
        var dropped = EncryptionKeyRing.FromSecret(newer);

        Assert.Equal(Secret, rotated.Open(beforeRotation, RowOfAna));
        Assert.NotEqual(beforeRotation.KeyId, rotated.Seal(Secret, RowOfAna).KeyId);
        Assert.Equal(dropped.Active.Id, rotated.Active.Id);
        var unknown = Assert.Throws<UnknownEncryptionKeyException>(() => dropped.Open(beforeRotation, RowOfAna));
        Assert.Equal(beforeRotation.KeyId, unknown.KeyId);
    }

    [Fact]
    public void Key_ids_are_stable_across_processes_and_do_not_reveal_the_key()
    {
        var key = EncryptionKeyRing.NewKeyBase64();

        var id = EncryptionKeyRing.FromSecret(key).Active.Id;

        Assert.Equal(id, EncryptionKeyRing.FromSecret($"  {key}  ").Active.Id);
        Assert.DoesNotContain(Convert.ToHexStringLower(Convert.FromBase64String(key))[..16], id, StringComparison.Ordinal);
        Assert.DoesNotContain(key, EncryptionKeyRing.FromSecret(key).Active.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("c2hvcnQ=")]
    public void A_secret_without_a_usable_key_is_refused_without_echoing_it(string secret)
    {
        var error = Assert.Throws<FormatException>(() => EncryptionKeyRing.FromSecret(secret));

        if (secret.Length > 0)
        {
            Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
        }
    }
}
