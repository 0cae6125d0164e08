namespace Invisible.Ingestion.Csv;

/// <summary>
/// Detection and validation read a file twice, so they need to seek. A stream that cannot (an upload being received)
/// is spooled to a temporary file first, which keeps memory flat whatever the file size.
/// </summary>
internal static class SeekableContent
{
    public static async Task<(Stream Stream, bool Owned)> OpenAsync(Stream content, CancellationToken cancellationToken)
    {
        if (content.CanSeek)
        {
            return (content, false);
        }

        var spool = new FileStream(
            Path.GetTempFileName(),
            FileMode.Create,
            FileAccess.ReadWrite,
            FileShare.None,
            bufferSize: 64 * 1024,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await content.CopyToAsync(spool, cancellationToken);
        spool.Position = 0;
        return (spool, true);
    }
}
