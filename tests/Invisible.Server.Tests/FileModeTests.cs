using Invisible.Platform.Blobs;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests;

/// <summary>
/// What a server writes to a data directory it creates is the owner's alone. The server uses a configured database, so the
/// data directory is 0700 even though the tests run as root (only the embedded cluster's postgres user would need 0711).
/// </summary>
public sealed class FileModeTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IDisposable
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly TemporaryDirectory _parent = new("invisible-modes-test-");

    public void Dispose() => _parent.Dispose();

    [Fact]
    public async Task The_data_directory_is_created_0700_and_blobs_and_import_spools_are_0600_in_0700_folders()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // no Unix modes; the profile's ACLs apply
        }

        var dataDirectory = Path.Combine(_parent.Path, "data");
        await using var server = await InvisibleServer.StartAsync(
            [$"--Server:DataDirectory={dataDirectory}", "--Server:HttpPort=0", "--Server:GrpcPort=0",
             $"--ConnectionStrings:Postgres={fixture.Database.OwnerConnectionString}", $"--ConnectionStrings:PostgresApp={fixture.Database.AppConnectionString}"],
            configure: null, CancellationToken.None);

        await server.Services.GetRequiredService<IBlobStore>().PutAsync("invoices/mode-check.pdf", new byte[] { 1, 2, 3 }, CancellationToken.None);
        var spools = server.Services.GetRequiredService<ImportSpools>();
        await using var spool = spools.Create("mode-check");

        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(dataDirectory));
        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(Path.Combine(dataDirectory, "blobs", "invoices")));
        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(Path.Combine(dataDirectory, "blobs.tmp")));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(dataDirectory, "blobs", "invoices", "mode-check.pdf")));
        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(spools.Folder));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(spool.Name));
    }
}
