using System.Security.Cryptography;
using System.Text;
using Invisible.Identity.Encryption;

namespace Invisible.Identity.Tests;

public sealed class PersonalDataTests
{
    private static readonly Guid Tenant = Guid.NewGuid();
    private static readonly PersonalDataLocation TaxIdOfAcme = new(Tenant, "vendors.tax_id", Guid.NewGuid());

    [Fact]
    public void A_sealed_tax_id_opens_at_its_location_and_its_bytes_do_not_contain_the_plaintext()
    {
        var data = new PersonalData(EncryptionKeyRing.FromSecret(EncryptionKeyRing.NewKeyBase64()));

        var stored = data.Seal("GB123456789", TaxIdOfAcme)!;

        Assert.Equal(-1, stored.AsSpan().IndexOf(Encoding.UTF8.GetBytes("123456789")));
        Assert.Equal("GB123456789", data.Open(stored, TaxIdOfAcme));
    }

    [Fact]
    public void A_value_moved_to_another_row_field_or_tenant_does_not_open()
    {
        var data = new PersonalData(EncryptionKeyRing.FromSecret(EncryptionKeyRing.NewKeyBase64()));
        var stored = data.Seal("GB123456789", TaxIdOfAcme)!;

        PersonalDataLocation[] elsewhere =
        [
            TaxIdOfAcme with { RowId = Guid.NewGuid() }, TaxIdOfAcme with { Field = "vendors.email" }, TaxIdOfAcme with { TenantId = Guid.NewGuid() },
        ];

        Assert.All(elsewhere, location => Assert.ThrowsAny<CryptographicException>(() => data.Open(stored, location)));
    }

    [Fact]
    public void After_rotation_old_values_still_open_and_are_marked_for_resealing()
    {
        var oldKey = EncryptionKeyRing.NewKeyBase64();
        var before = new PersonalData(EncryptionKeyRing.FromSecret(oldKey));
        var stored = before.Seal("ap@acme.example", TaxIdOfAcme)!;
        var after = new PersonalData(EncryptionKeyRing.FromSecret($"{EncryptionKeyRing.NewKeyBase64()} {oldKey}"));

        Assert.Equal(("ap@acme.example", true, false), (after.Open(stored, TaxIdOfAcme), after.NeedsResealing(stored), after.NeedsResealing(after.Seal("x", TaxIdOfAcme)!)));
    }

    [Fact]
    public void The_blind_index_finds_equal_values_after_normalisation_and_keeps_purposes_and_keys_apart()
    {
        var index = new BlindIndex(RandomNumberGenerator.GetBytes(32));
        var otherKey = new BlindIndex(RandomNumberGenerator.GetBytes(32));

        Assert.Equal(index.OfEmail(" Ana@Example.COM "), index.OfEmail("ana@example.com"));
        Assert.Equal(index.OfTaxId("GB 123.456-789"), index.OfTaxId("gb123456789"));
        Assert.NotEqual(index.OfEmail("ana@example.com"), index.OfEmail("ben@example.com"));
        Assert.NotEqual(index.OfEmail("gb123456789"), index.OfTaxId("gb123456789"));
        Assert.NotEqual(index.OfEmail("ana@example.com"), otherKey.OfEmail("ana@example.com"));
        Assert.Null(index.OfTaxId(" - "));
    }
}
