namespace Invisible.Platform.Tests;

/// <summary>A cancellation token that ends a test stuck on I/O instead of hanging the run.</summary>
internal static class TestTimeout
{
    public static CancellationToken Token => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
