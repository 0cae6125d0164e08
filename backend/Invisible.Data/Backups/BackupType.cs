namespace Invisible.Data.Backups;

/// <summary>pgBackRest's backup types: everything, changes since the last full one, changes since the last backup of any type.</summary>
public enum BackupType
{
    Full,
    Diff,
    Incr,
}
