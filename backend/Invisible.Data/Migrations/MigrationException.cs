namespace Invisible.Data.Migrations;

/// <summary>The database's migration history does not fit the migrations of this build, or a migration failed.</summary>
public sealed class MigrationException(string message, Exception? innerException = null) : Exception(message, innerException);
