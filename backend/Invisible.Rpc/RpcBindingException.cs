namespace Invisible.Rpc;

/// <summary>A handler does not match its proto service; thrown at start-up, listing every mismatch.</summary>
public sealed class RpcBindingException(string message) : Exception(message);
