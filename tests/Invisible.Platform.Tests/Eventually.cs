namespace Invisible.Platform.Tests;

/// <summary>Waits for an asynchronous outcome (a background dispatcher, a delivery over HTTP) instead of sleeping a guessed time.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The condition did not hold within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(25);
        }
    }
}
