using Invisible.Data.Tenancy;
using Npgsql;

namespace Invisible.Data.Imports;

/// <summary>
/// One binary COPY into the staging table that stays open across the reader's batches, so that PostgreSQL stores rows
/// while the next batch is still being parsed (one COPY per batch made the reader wait for every batch to be stored).
/// A look-up on the same connection must first <see cref="PauseAsync"/> the COPY; the next batch opens a new one.
/// </summary>
internal sealed class StagingCopy<TRow>(TenantUnitOfWork unitOfWork, IImportStaging<TRow> staging) : IAsyncDisposable
{
    private NpgsqlBinaryImporter? _importer;

    public async ValueTask WriteAsync(IReadOnlyList<TRow> batch, CancellationToken cancellationToken)
    {
        // SQL: binary COPY into the staging table; its COPY statement comes from the staging of the document kind.
        _importer ??= await unitOfWork.Connection.BeginBinaryImportAsync(staging.CopySql, cancellationToken);
        foreach (var row in batch)
        {
            await staging.WriteAsync(_importer, row, cancellationToken);
        }
    }

    /// <summary>Ends the open COPY (its rows are kept) so that the connection can run another command.</summary>
    public async Task PauseAsync(CancellationToken cancellationToken)
    {
        if (_importer is { } importer)
        {
            _importer = null;
            await importer.CompleteAsync(cancellationToken);
            await importer.DisposeAsync();
        }
    }

    /// <summary>
    /// Disposing without <see cref="PauseAsync"/> (an exception) cancels the COPY, which aborts the transaction: right, since
    /// the unit of work is then rolled back anyway.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_importer is { } importer)
        {
            _importer = null;
            await importer.DisposeAsync();
        }
    }
}
