using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Invisible.Identity.Encryption;
using Invisible.Platform.Secrets;
using Invisible.Server.Accounts;
using Invisible.Server.FieldEncryption;
using Invisible.Server.Tests.Accounts;
using LinqToDB;
using LinqToDB.Data;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.FieldEncryption;

/// <summary>
/// Field-level encryption of personal data against the real server and database: what is stored, sign-in by the blind
/// index, the start-up backfill, values moved between rows, and key rotation.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class PersonalDataEncryptionTests(AccountsServer server)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private PersonalDataKeys Keys => server.Server.Services.GetRequiredService<PersonalDataKeys>();

    [Fact]
    public async Task An_invited_users_email_is_stored_sealed_and_indexed_and_the_sealed_bytes_do_not_contain_the_address()
    {
        var tenant = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);

        var row = await UserRowAsync(tenant, clerk.Email);

        Assert.Multiple(
            () => Assert.Equal(-1, row.EmailEncrypted!.AsSpan().IndexOf(Encoding.UTF8.GetBytes(clerk.Email))),
            () => Assert.Equal(-1, row.EmailEncrypted!.AsSpan().IndexOf(Encoding.UTF8.GetBytes(clerk.Email.Split('@')[0]))),
            () => Assert.Equal(clerk.Email, OpenAsync(row, tenant.Id).Result),
            () => Assert.Equal((Keys.IndexAsync(Ct).Result).OfEmail(clerk.Email), row.EmailIndex));
    }

    [Fact]
    public async Task An_invitations_email_is_stored_sealed_when_the_invitation_is_recorded()
    {
        var tenant = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);

        var invitation = (await QueryAsync<InvitationSealed>(tenant, "select id as Id, email_encrypted as EmailEncrypted from invitations")).Single();

        Assert.Equal(clerk.Email, (await Keys.DataAsync(Ct)).Open(invitation.EmailEncrypted, new PersonalDataLocation(tenant.Id, PersonalDataFields.InvitationEmail, invitation.Id)));
    }

    [Fact]
    public async Task Sign_in_finds_the_user_by_the_blind_index_of_the_address_in_any_letter_case()
    {
        var tenant = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);

        var signIn = await tenant.SignInAsync(new TestUser("  " + clerk.Email.ToUpperInvariant(), clerk.Password, clerk.Role));

        Assert.Equal(StatusCode.OK, signIn.Status);
    }

    [Fact]
    public async Task A_fresh_database_has_no_plaintext_column_of_personal_data_and_the_start_up_sweep_finds_nothing_to_re_seal()
    {
        var tenant = await server.NewTenantAsync();
        await ImportVendorsAsync(tenant, "vendor_code,name,tax_id,email\nV-1,Acme,GB 123.456-789,billing@acme.example\n");

        var plaintextColumns = await QueryAsync<string>(tenant,
            """
            select table_name || '.' || column_name from information_schema.columns
            where table_schema = 'public' and (table_name, column_name) in (('users', 'email'), ('invitations', 'email'), ('vendors', 'tax_id'), ('vendors', 'email'))
            """);
        var resealed = await server.Server.Services.GetRequiredService<PersonalDataSealing>().SealTenantAsync(tenant.Id, Ct);

        Assert.Multiple(() => Assert.Empty(plaintextColumns), () => Assert.Equal(0, resealed));
    }

    [Fact]
    public async Task Searching_the_vendor_directory_by_a_tax_id_finds_the_vendor_through_the_blind_index_however_the_tax_id_is_written()
    {
        var tenant = await server.NewTenantAsync();
        await ImportVendorsAsync(tenant, "vendor_code,name,tax_id\nV-7,Initech,GB 123.456-789\nV-8,Globex,DE811111111\n");

        var found = await server.Server.Services.GetRequiredService<Invisible.Server.Vendors.VendorDirectoryQueries>().ListAsync(tenant.Id, "gb123456789", null, 10, Ct);

        Assert.Equal([("V-7", "GB 123.456-789")], found.Vendors.Select(vendor => (vendor.VendorCode, vendor.TaxId)));
    }

    [Fact]
    public async Task A_vendor_file_import_seals_the_tax_ids_and_e_mails_it_stores_in_its_own_transaction()
    {
        var tenant = await server.NewTenantAsync();
        await ImportVendorsAsync(tenant, "vendor_code,name,tax_id,email,country,currency,payment_terms\nV1,Acme Supplies Ltd,GB123456789,ap@acme.example,GB,GBP,NET30\n");

        var vendor = (await QueryAsync<VendorSealed>(tenant, "select tax_id_encrypted as TaxIdEncrypted, tax_id_index as TaxIdIndex, email_encrypted as EmailEncrypted from vendors")).Single();
        var data = await Keys.DataAsync(Ct);

        Assert.Multiple(
            () => Assert.Equal("GB123456789", data.Open(vendor.TaxIdEncrypted, PersonalDataFields.OfVendor(tenant.Id, PersonalDataFields.VendorTaxId, "V1"))),
            () => Assert.Equal("ap@acme.example", data.Open(vendor.EmailEncrypted, PersonalDataFields.OfVendor(tenant.Id, PersonalDataFields.VendorEmail, "V1"))),
            () => Assert.Equal((Keys.IndexAsync(Ct).Result).OfTaxId("gb 123 456 789"), vendor.TaxIdIndex),
            () => Assert.Equal(-1, vendor.EmailEncrypted!.AsSpan().IndexOf("ap@acme.example"u8)));
    }

    [Fact]
    public async Task A_sealed_email_moved_to_another_users_row_or_another_tenant_does_not_open()
    {
        var tenant = await server.NewTenantAsync();
        var other = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);
        var admin = await UserRowAsync(tenant, tenant.Admin.Email);
        var clerkRow = await UserRowAsync(tenant, clerk.Email);
        var otherAdmin = await UserRowAsync(other, other.Admin.Email);
        var data = await Keys.DataAsync(Ct);

        Assert.Multiple(
            () => Assert.ThrowsAny<CryptographicException>(() => data.Open(clerkRow.EmailEncrypted, new PersonalDataLocation(tenant.Id, PersonalDataFields.UserEmail, admin.Id))),
            () => Assert.ThrowsAny<CryptographicException>(() => data.Open(clerkRow.EmailEncrypted, new PersonalDataLocation(other.Id, PersonalDataFields.UserEmail, otherAdmin.Id))),
            () => Assert.ThrowsAny<CryptographicException>(() => data.Open(clerkRow.EmailEncrypted, new PersonalDataLocation(tenant.Id, PersonalDataFields.InvitationEmail, clerkRow.Id))));
    }

    [Fact]
    public async Task After_a_key_rotation_the_sweep_re_seals_every_value_under_the_new_key_so_the_old_one_can_be_dropped()
    {
        var tenant = await server.NewTenantAsync();
        await ImportVendorsAsync(tenant, "vendor_code,name,tax_id\nV-9,Globex,DE811111111\n");
        var older = await server.Server.Services.GetRequiredService<ISecretStore>().GetSecretAsync(SecretNames.PersonalDataEncryptionKey, Ct);
        var newer = EncryptionKeyRing.NewKeyBase64();

        var resealed = await SweepWithAsync(tenant, $"{newer} {older}");
        var admin = await UserRowAsync(tenant, tenant.Admin.Email);
        var taxId = (await QueryAsync<VendorSealed>(tenant, "select tax_id_encrypted as TaxIdEncrypted from vendors")).Single().TaxIdEncrypted;
        var afterDrop = new Identity.Encryption.PersonalData(EncryptionKeyRing.FromSecret(newer));

        Assert.Multiple(
            () => Assert.Equal(2, resealed),
            () => Assert.Equal(tenant.Admin.Email, afterDrop.Open(admin.EmailEncrypted, new PersonalDataLocation(tenant.Id, PersonalDataFields.UserEmail, admin.Id))),
            () => Assert.Equal("DE811111111", afterDrop.Open(taxId, PersonalDataFields.OfVendor(tenant.Id, PersonalDataFields.VendorTaxId, "V-9"))));
    }

    private async Task<int> SweepWithAsync(TestTenant tenant, string ring)
    {
        var keys = new PersonalDataKeys(new RingSecretStore(ring, server.Server.Services.GetRequiredService<ISecretStore>()));
        return await ActivatorUtilities.CreateInstance<PersonalDataSealing>(server.Server.Services, keys).SealTenantAsync(tenant.Id, Ct);
    }

    private async Task<string?> OpenAsync(UserSealed row, Guid tenantId) =>
        (await Keys.DataAsync(Ct)).Open(row.EmailEncrypted, new PersonalDataLocation(tenantId, PersonalDataFields.UserEmail, row.Id));

    private static async Task<UserSealed> UserRowAsync(TestTenant tenant, string email) =>
        (await QueryAsync<UserSealed>(tenant, "select id as Id, email_encrypted as EmailEncrypted, email_index as EmailIndex from users where email_index = @index",
            new DataParameter("index", tenant.EmailIndexOf(email), DataType.Binary))).Single();

    private async Task ImportVendorsAsync(TestTenant tenant, string csv)
    {
        await using var file = new MemoryStream(Encoding.UTF8.GetBytes(csv));
        var outcome = await server.Server.Services.GetRequiredService<Invisible.Server.Imports.ImportService>().ImportAsync(tenant.Id,
            new Data.Imports.ImportRequest(Ingestion.DocumentKind.Vendors, $"vendors-{Guid.NewGuid():N}.csv", Data.Imports.ImportSource.Cli, "tester", null), file,
            new Ingestion.ImportOptions(), null, Ct);
        Assert.Equal(Data.Imports.ImportOutcomeKind.Stored, outcome.Kind);
    }

    // Raw SQL: the tests read and write the stored bytes themselves, as an attacker with the database would.
    private static async Task<List<T>> QueryAsync<T>(TestTenant tenant, string sql, params DataParameter[] parameters)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, Ct);
        return await unitOfWork.Db.QueryToListAsync<T>(sql, parameters);
    }

    /// <summary>The server's secret store with the personal-data key ring under test in place of the server's own.</summary>
    private sealed class RingSecretStore(string ring, ISecretStore server) : ISecretStore
    {
        public Task<string> GetSecretAsync(string name, CancellationToken cancellationToken) =>
            name == SecretNames.PersonalDataEncryptionKey ? Task.FromResult(ring) : server.GetSecretAsync(name, cancellationToken);
    }

    private sealed class UserSealed
    {
        public Guid Id { get; set; }

        public byte[]? EmailEncrypted { get; set; }

        public byte[]? EmailIndex { get; set; }
    }

    private sealed class InvitationSealed
    {
        public Guid Id { get; set; }

        public byte[]? EmailEncrypted { get; set; }
    }

    private sealed class VendorSealed
    {
        public byte[]? TaxIdEncrypted { get; set; }

        public byte[]? TaxIdIndex { get; set; }

        public byte[]? EmailEncrypted { get; set; }
    }
}
