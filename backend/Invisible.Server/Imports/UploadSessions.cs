using System.Security.Cryptography;
using Invisible.Ingestion;
using Invisible.Platform.Blobs;
using Invisible.Platform.State;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Imports;

/// <summary>A file being uploaded in chunks: kept in the state store, with its chunks in the blob store, until it expires.</summary>
/// <param name="ReceivedBytes">Bytes stored so far; the next chunk must start here.</param>
public sealed record UploadSession(
    Guid UploadId,
    Guid TenantId,
    DocumentKind Kind,
    string FileName,
    long DeclaredSize,
    long ReceivedBytes,
    UploadOptions Options,
    string UploadedBy,
    DateTimeOffset ExpiresAt);

/// <summary>The uploader's import options as plain values, so the session survives a round trip through JSON.</summary>
public sealed record UploadOptions(string? Culture, char? Delimiter, string? DateFormat, string? Encoding);

/// <summary>Why an upload step was refused; the gRPC handler turns it into a status with a machine-readable reason.</summary>
public sealed class UploadException(string reason, string message, long? expectedOffset = null) : Exception(message)
{
    public const string NotFound = "UPLOAD_NOT_FOUND";
    public const string OffsetMismatch = "UPLOAD_OFFSET_MISMATCH";
    public const string TooLarge = "UPLOAD_TOO_LARGE";
    public const string Incomplete = "UPLOAD_INCOMPLETE";
    public const string ChecksumMismatch = "UPLOAD_CHECKSUM_MISMATCH";
    public const string QuotaExceeded = "UPLOAD_QUOTA_EXCEEDED";

    public string Reason { get; } = reason;

    public long? ExpectedOffset { get; } = expectedOffset;
}

/// <summary>Per-tenant limits on uploads in progress, section <c>Imports:Uploads</c>.</summary>
public sealed class UploadQuotaOptions
{
    public const string Section = "Imports:Uploads";

    /// <summary>Upload sessions a tenant may have open (started, neither completed nor expired).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, int.MaxValue)]
    public int MaxOpenUploadsPerTenant { get; set; } = 20;

    /// <summary>Declared bytes of a tenant's open uploads together: what its chunks may come to on disk.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, long.MaxValue)]
    public long MaxBytesInFlightPerTenant { get; set; } = 4L << 30;

    /// <summary>How often the chunks of expired (abandoned) uploads are removed.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>A tenant's open uploads as the quota counts them, kept in the state store next to the sessions.</summary>
public sealed record OpenUploads(IReadOnlyList<OpenUpload> Uploads);

public sealed record OpenUpload(Guid UploadId, long DeclaredSize, DateTimeOffset ExpiresAt);

/// <summary>
/// Chunked uploads for clients without client streaming (browsers over gRPC-Web). Sessions are keyed by tenant and
/// upload id, so one tenant can never continue another's upload, and expire after <see cref="Lifetime"/>. A tenant's open
/// uploads are limited in number and declared bytes (<see cref="UploadQuotaOptions"/>); the chunks of uploads that expire
/// unfinished are removed by <see cref="SweepAbandonedAsync"/>.
/// </summary>
public sealed class UploadSessions(IStateStore state, IBlobStore blobs, ImportSpools spools, IOptions<UploadQuotaOptions> quota, TimeProvider time)
{
    private const int QuotaAttempts = 10;

    public const int MaxChunkBytes = 1 << 20;
    public const long MaxFileBytes = 2L << 30;
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(2);

    public async Task<UploadSession> StartAsync(
        Guid tenantId, DocumentKind kind, string fileName, long size, UploadOptions options, string uploadedBy, CancellationToken cancellationToken)
    {
        if (size > MaxFileBytes)
        {
            throw new UploadException(UploadException.TooLarge, $"{fileName} has {size} bytes; at most {MaxFileBytes} are accepted.");
        }

        var session = new UploadSession(Guid.NewGuid(), tenantId, kind, fileName, size, 0, options, uploadedBy, time.GetUtcNow() + Lifetime);
        await ReserveAsync(session, cancellationToken);
        await state.SaveAsync(Key(tenantId, session.UploadId), session, new StateWriteOptions(TimeToLive: Lifetime), cancellationToken);
        return session;
    }

    /// <returns>The bytes received so far, this chunk included.</returns>
    public async Task<long> AppendAsync(Guid tenantId, Guid uploadId, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var entry = await GetAsync(tenantId, uploadId, cancellationToken);
        var session = entry.Value;
        if (offset != session.ReceivedBytes)
        {
            throw new UploadException(
                UploadException.OffsetMismatch, $"The chunk starts at byte {offset}, but the upload has {session.ReceivedBytes} bytes: send from there.",
                session.ReceivedBytes);
        }

        if (data.Length > MaxChunkBytes || session.ReceivedBytes + data.Length > session.DeclaredSize)
        {
            throw new UploadException(
                UploadException.TooLarge,
                $"A chunk has at most {MaxChunkBytes} bytes and the file {session.DeclaredSize} as declared; this chunk of {data.Length} bytes at {offset} exceeds that.");
        }

        await blobs.PutAsync(ChunkName(tenantId, uploadId, offset), data, cancellationToken);
        var received = session.ReceivedBytes + data.Length;

        // The ETag makes two racing chunks for the same offset fail one of them instead of both counting.
        await state.SaveAsync(Key(tenantId, uploadId), session with { ReceivedBytes = received }, new StateWriteOptions(entry.ETag, Lifetime), cancellationToken);
        return received;
    }

    /// <summary>
    /// Assembles the complete upload into a spool under the data directory (deleted when disposed), after checking its
    /// size and SHA-256, and forgets the session. The import reads and keeps that very spool: one version of the file.
    /// </summary>
    public async Task<(UploadSession Session, SpooledFile Content)> CompleteAsync(Guid tenantId, Guid uploadId, string sha256, CancellationToken cancellationToken)
    {
        var session = (await GetAsync(tenantId, uploadId, cancellationToken)).Value;
        if (session.ReceivedBytes != session.DeclaredSize)
        {
            throw new UploadException(
                UploadException.Incomplete, $"{session.FileName}: {session.ReceivedBytes} of {session.DeclaredSize} bytes received.", session.ReceivedBytes);
        }

        var content = spools.Create($"upload-{uploadId:N}");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var chunks = await blobs.ListAsync(ChunkPrefix(tenantId, uploadId), cancellationToken);
            foreach (var chunk in chunks)
            {
                var data = await blobs.GetAsync(chunk, cancellationToken)
                    ?? throw new UploadException(UploadException.Incomplete, $"{session.FileName}: chunk {chunk} vanished; upload the file again.");
                hash.AppendData(data);
                await content.WriteAsync(data, cancellationToken);
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (!string.Equals(actual, sha256.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                throw new UploadException(UploadException.ChecksumMismatch, $"{session.FileName}: the received bytes have SHA-256 {actual}, not {sha256}.");
            }

            await content.FlushAsync(cancellationToken);
            content.Position = 0;
            await ForgetAsync(tenantId, uploadId, chunks, cancellationToken);
            await ReleaseAsync(tenantId, uploadId, cancellationToken);
            return (session, new SpooledFile(content, actual, content.Length));
        }
        catch
        {
            await content.DisposeAsync();
            throw;
        }
    }

    private async Task<StateEntry<UploadSession>> GetAsync(Guid tenantId, Guid uploadId, CancellationToken cancellationToken) =>
        await state.GetAsync<UploadSession>(Key(tenantId, uploadId), cancellationToken) is { } entry && entry.Value.ExpiresAt > time.GetUtcNow()
            ? entry
            : throw new UploadException(UploadException.NotFound, $"Upload {uploadId} does not exist or has expired; start a new upload.");

    private async Task ForgetAsync(Guid tenantId, Guid uploadId, IReadOnlyList<string> chunks, CancellationToken cancellationToken)
    {
        await state.DeleteAsync(Key(tenantId, uploadId), etag: null, cancellationToken);
        foreach (var chunk in chunks)
        {
            await blobs.DeleteAsync(chunk, cancellationToken);
        }
    }

    /// <summary>
    /// Removes the chunks of the tenant's uploads whose session has expired or is gone (abandoned: never completed), and
    /// their places in the quota. Returns the number of uploads swept.
    /// </summary>
    public async Task<int> SweepAbandonedAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var root = UploadsRoot(tenantId);
        var byUpload = (await blobs.ListAsync(root, cancellationToken))
            .GroupBy(name => name[root.Length..].Split('/')[0], StringComparer.Ordinal);
        var swept = 0;
        foreach (var upload in byUpload)
        {
            if (!Guid.TryParseExact(upload.Key, "N", out var uploadId))
            {
                continue;
            }

            if (await state.GetAsync<UploadSession>(Key(tenantId, uploadId), cancellationToken) is { } entry && entry.Value.ExpiresAt > time.GetUtcNow())
            {
                continue;
            }

            await ForgetAsync(tenantId, uploadId, upload.ToList(), cancellationToken);
            swept++;
        }

        await ReleaseAsync(tenantId, uploadId: null, cancellationToken);
        return swept;
    }

    /// <summary>Counts the new session against the tenant's quota, or refuses it (optimistic: the ETag makes racing starts retry).</summary>
    private async Task ReserveAsync(UploadSession session, CancellationToken cancellationToken)
    {
        var limits = quota.Value;
        for (var attempt = 1; ; attempt++)
        {
            var entry = await state.GetAsync<OpenUploads>(QuotaKey(session.TenantId), cancellationToken);
            var open = Open(entry);
            if (open.Count + 1 > limits.MaxOpenUploadsPerTenant || open.Sum(upload => upload.DeclaredSize) + session.DeclaredSize > limits.MaxBytesInFlightPerTenant)
            {
                throw new UploadException(
                    UploadException.QuotaExceeded,
                    $"Your organisation has {open.Count} uploads in progress ({open.Sum(upload => upload.DeclaredSize)} bytes); at most " +
                    $"{limits.MaxOpenUploadsPerTenant} uploads and {limits.MaxBytesInFlightPerTenant} bytes may be in progress at once. Finish one first.");
            }

            try
            {
                await state.SaveAsync(
                    QuotaKey(session.TenantId), new OpenUploads([.. open, new OpenUpload(session.UploadId, session.DeclaredSize, session.ExpiresAt)]),
                    new StateWriteOptions(entry?.ETag), cancellationToken);
                return;
            }
            catch (StateConcurrencyException) when (attempt < QuotaAttempts)
            {
            }
        }
    }

    /// <summary>Frees the upload's place in the quota (null: only drops expired places).</summary>
    private async Task ReleaseAsync(Guid tenantId, Guid? uploadId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var entry = await state.GetAsync<OpenUploads>(QuotaKey(tenantId), cancellationToken);
            if (entry is null)
            {
                return;
            }

            var open = Open(entry).Where(upload => upload.UploadId != uploadId).ToList();
            if (open.Count == entry.Value.Uploads.Count)
            {
                return;
            }

            try
            {
                await state.SaveAsync(QuotaKey(tenantId), new OpenUploads(open), new StateWriteOptions(entry.ETag), cancellationToken);
                return;
            }
            catch (StateConcurrencyException) when (attempt < QuotaAttempts)
            {
            }
        }
    }

    private List<OpenUpload> Open(StateEntry<OpenUploads>? entry) =>
        entry?.Value.Uploads.Where(upload => upload.ExpiresAt > time.GetUtcNow()).ToList() ?? [];

    private static string QuotaKey(Guid tenantId) => $"imports/upload-quota/{tenantId:N}";

    private static string UploadsRoot(Guid tenantId) => $"tenants/{tenantId:N}/uploads/";

    private static string Key(Guid tenantId, Guid uploadId) => $"imports/uploads/{tenantId:N}/{uploadId:N}";

    private static string ChunkPrefix(Guid tenantId, Guid uploadId) => $"{UploadsRoot(tenantId)}{uploadId:N}/";

    // Zero-padded so the store's ordinal listing is offset order.
    private static string ChunkName(Guid tenantId, Guid uploadId, long offset) => $"{ChunkPrefix(tenantId, uploadId)}{offset:D15}";
}
