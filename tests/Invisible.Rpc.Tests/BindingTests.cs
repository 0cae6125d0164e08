using Invisible.Rpc.Hosting;
using Invisible.Rpc.Tests.Probe;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Rpc.Tests;

/// <summary>Start-up binding of handlers to proto service descriptors.</summary>
public sealed class BindingTests
{
    private static Google.Protobuf.Reflection.ServiceDescriptor Probe => ProbeReflection.Descriptor.Services[0];

    [Fact]
    public void Missing_handler_method_fails_start_up_naming_service_method_and_expected_signature()
    {
        var error = Assert.Throws<RpcBindingException>(() => new ServiceCollection().AddInvisibleRpc().AddService<HandlerWithoutCount>(Probe, "Upload"));

        Assert.Contains("invisible.rpctest.v1.ProbeService", error.Message, StringComparison.Ordinal);
        Assert.Contains("HandlerWithoutCount has no method Count", error.Message, StringComparison.Ordinal);
        Assert.Contains("expected public Task Count(CountRequest, IServerStreamWriter<CountReply>, RpcCallContext)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mistyped_handler_method_fails_start_up_showing_both_signatures()
    {
        var error = Assert.Throws<RpcBindingException>(() => new ServiceCollection().AddInvisibleRpc().AddService<HandlerWithMistypedEcho>(Probe, "Upload"));

        Assert.Contains("HandlerWithMistypedEcho.Echo has signature Task<EchoReply> Echo(CountRequest, RpcCallContext)", error.Message, StringComparison.Ordinal);
        Assert.Contains("expected public Task<EchoReply> Echo(EchoRequest, RpcCallContext)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Client_streaming_method_must_be_left_unimplemented_explicitly()
    {
        var error = Assert.Throws<RpcBindingException>(() => new ServiceCollection().AddInvisibleRpc().AddService<Support.ProbeHandler>(Probe));

        Assert.Contains("invisible.rpctest.v1.ProbeService.Upload is client-streaming", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Leaving_unimplemented_a_method_the_service_does_not_have_fails_start_up()
    {
        var error = Assert.Throws<RpcBindingException>(() => new ServiceCollection().AddInvisibleRpc().AddService<Support.ProbeHandler>(Probe, "Upload", "Uplaod"));

        Assert.Contains("has no method 'Uplaod'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Complete_handler_binds()
    {
        var services = new ServiceCollection();

        services.AddInvisibleRpc().AddService<Support.ProbeHandler>(Probe, "Upload");

        Assert.Contains(services, s => s.ServiceType == typeof(Support.ProbeHandler) && s.Lifetime == ServiceLifetime.Scoped);
    }

    private sealed class HandlerWithoutCount
    {
        public Task<EchoReply> Echo(EchoRequest request, RpcCallContext context) => Task.FromResult(new EchoReply());

        public Task<EchoReply> Fail(FailRequest request, RpcCallContext context) => Task.FromResult(new EchoReply());

        public Task<EchoReply> Hang(EchoRequest request, RpcCallContext context) => Task.FromResult(new EchoReply());

        public Task<CountReply> Stall(CountRequest request, RpcCallContext context) => Task.FromResult(new CountReply());
    }

    private sealed class HandlerWithMistypedEcho
    {
        public Task<EchoReply> Echo(CountRequest request, RpcCallContext context) => Task.FromResult(new EchoReply());

        public Task Count(CountRequest request, IServerStreamWriter<CountReply> stream, RpcCallContext context) => Task.CompletedTask;

        public Task<EchoReply> Fail(FailRequest request, RpcCallContext context) => Task.FromResult(new EchoReply());

        public Task<EchoReply> Hang(EchoRequest request, RpcCallContext context) => Task.FromResult(new EchoReply());

        public Task<CountReply> Stall(CountRequest request, RpcCallContext context) => Task.FromResult(new CountReply());
    }
}
