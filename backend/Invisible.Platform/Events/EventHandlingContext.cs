using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Npgsql;

namespace Invisible.Platform.Events;

/// <summary>
/// What a handler gets besides the event: the event's tenant unit of work, in which the handler's inbox row has already
/// been written. The handler's database effect joins it; the platform commits both or neither.
/// </summary>
public sealed class EventHandlingContext(EventEnvelope envelope, TenantUnitOfWork unitOfWork)
{
    public EventEnvelope Envelope { get; } = envelope;

    public TenantUnitOfWork UnitOfWork { get; } = unitOfWork;

    public NpgsqlConnection Connection => UnitOfWork.Connection;

    public NpgsqlTransaction Transaction => UnitOfWork.Transaction;

    /// <summary>linq2db in the delivery's transaction (<see cref="TenantUnitOfWork.Db"/>).</summary>
    public DataConnection Db => UnitOfWork.Db;
}
