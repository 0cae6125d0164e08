namespace Invisible.Platform;

/// <summary>
/// Names of the Dapr components the product talks to. They must match <c>metadata.name</c> in
/// <c>components/*.yaml</c>; a test loads those files and compares them with these constants.
/// </summary>
public static class DaprComponents
{
    public const string PubSub = "pubsub";
    public const string StateStore = "statestore";
    public const string SecretStore = "secretstore";
    public const string BlobStore = "blobstore";
    public const string Email = "email";
    public const string QuickBooks = "quickbooks";
}
