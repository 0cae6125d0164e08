using Xunit;

namespace Invisible.Testing;

/// <summary>
/// A fresh database per test class: <c>public sealed class MyTests(DatabaseFixture fixture) : IClassFixture&lt;DatabaseFixture&gt;</c>,
/// then <c>fixture.Database.Tenants.BeginAsync(...)</c>. The database is dropped after the class's last test.
/// </summary>
public sealed class DatabaseFixture : IAsyncLifetime
{
    private TestDatabase? database;

    public TestDatabase Database => database ?? throw new InvalidOperationException("The database fixture has not been initialised by xunit yet.");

    public async Task InitializeAsync() => database = await TestPostgres.CreateDatabaseAsync();

    public async Task DisposeAsync()
    {
        if (database is not null)
        {
            await database.DisposeAsync();
        }
    }
}
