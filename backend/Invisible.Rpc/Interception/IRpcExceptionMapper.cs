namespace Invisible.Rpc.Interception;

/// <summary>
/// Turns an application's own exception types (domain errors, validation failures) into a status with details,
/// e.g. <see cref="RpcException.WithReason"/> or <see cref="RpcException.InvalidArgument"/>. Register with
/// <c>AddExceptionMapper</c>; the first mapper that returns non-null wins.
/// </summary>
public interface IRpcExceptionMapper
{
    RpcException? TryMap(Exception exception);
}
