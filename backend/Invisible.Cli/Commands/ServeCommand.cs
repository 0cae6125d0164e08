using System.CommandLine;
using Invisible.Server.Hosting;

namespace Invisible.Cli.Commands;

/// <summary>The server without the embedded conveniences of <c>up</c>: for deployments (Dapr, containers) that run one role per process.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var role = new Option<ServerRole>("--role")
        {
            Description = "all: everything in one process; api: gRPC, gRPC-Web and the web app; worker: event subscribers and the outbox dispatcher.",
            DefaultValueFactory = _ => ServerRole.All,
        };
        var port = new Option<int>("--port") { Description = "HTTP port (web app, gRPC-Web, health, Dapr app channel).", DefaultValueFactory = _ => 8080, HelpName = "PORT" };
        var grpcPort = new Option<int>("--grpc-port") { Description = "h2c port for native gRPC.", DefaultValueFactory = _ => 8081, HelpName = "PORT" };
        var listen = new Option<string>("--listen") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1", HelpName = "ADDRESS" };

        var command = new Command("serve", "Run the server in the foreground with a given role. The database is ConnectionStrings:Postgres when configured, else the embedded cluster in --data-dir.")
        {
            role, port, grpcPort, listen,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string[] arguments =
            [
                $"--Server:DataDirectory={parse.GetValue(CommonOptions.DataDirectory)!.FullName}",
                $"--Server:Role={parse.GetValue(role)}",
                $"--Server:HttpPort={parse.GetValue(port)}",
                $"--Server:GrpcPort={parse.GetValue(grpcPort)}",
                $"--Server:ListenAddress={parse.GetValue(listen)}",
            ];
            // A deployment's standard error goes to its log collector: Information on the terminal, --verbose or not.
            await using var server = await InvisibleServer.StartAsync(arguments, configure: null, ProductLoggingOptions.Default, cancellationToken);
            await Console.Error.WriteLineAsync($"Invisible ({parse.GetValue(role)}) listening on {server.Endpoints.Http} and {server.Endpoints.Grpc} (h2c)");
            await server.WaitForShutdownAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }
}
