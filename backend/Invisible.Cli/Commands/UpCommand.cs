using System.CommandLine;
using Invisible.Server.Hosting;
using Invisible.Server.Intake;
using Microsoft.Extensions.DependencyInjection;
using Invisible.Server.Tenancy;
using Spectre.Console;

namespace Invisible.Cli.Commands;

internal static class UpCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port")
        {
            Description = "HTTP port for the web app and gRPC-Web (0 picks a free one).",
            DefaultValueFactory = _ => 5080,
            HelpName = "PORT",
        };
        var grpcPort = new Option<int?>("--grpc-port")
        {
            Description = "h2c port for native gRPC (default: PORT + 1, or a free one when PORT is 0).",
            HelpName = "PORT",
        };
        var smtpPort = new Option<int>("--smtp-port")
        {
            Description = "Port of the e-mail intake listener on 127.0.0.1 (0, the default, picks a free one; endpoints.json names it as \"smtp\"). " +
                          "Mail to <tenant-slug>@invoices.localhost is imported for that tenant.",
            DefaultValueFactory = _ => 0,
            HelpName = "PORT",
        };
        var noDemo = new Option<bool>("--no-demo") { Description = "Do not create the demo tenant." };

        var command = new Command("up", "Start the product on its embedded default: a private PostgreSQL cluster, the demo tenant, the web app and the API on 127.0.0.1. Ctrl-C stops everything it started.")
        {
            port, grpcPort, smtpPort, noDemo,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var httpPort = parse.GetValue(port);
            var arguments = new[]
            {
                $"--Server:DataDirectory={parse.GetValue(CommonOptions.DataDirectory)!.FullName}",
                $"--Server:HttpPort={httpPort}",
                $"--Server:GrpcPort={parse.GetValue(grpcPort) ?? (httpPort == 0 ? 0 : httpPort + 1)}",
                $"--Email:Intake:Port={parse.GetValue(smtpPort)}",
            };

            // Interactive: the address and the demo sign-in are printed below; the server's log goes to the file (or --verbose).
            await using var server = await InvisibleServer.StartAsync(arguments, configure: null, CommonOptions.Logging(parse), cancellationToken);
            var demo = parse.GetValue(noDemo) ? null : await DemoTenant.EnsureAsync(server.Services, cancellationToken);

            AnsiConsole.MarkupLine($"[bold green]Invisible is up.[/]  Web app: [link]{server.Endpoints.Http}[/]   gRPC (h2c): {server.Endpoints.Grpc}");
            if (server.Endpoints.Smtp is { } smtp)
            {
                AnsiConsole.MarkupLine($"E-mail intake (SMTP): {smtp}{(demo is null ? "" : $"  send invoices to [bold]{server.Services.GetRequiredService<IntakeRecipients>().AddressOf(demo.TenantSlug)}[/]")}");
            }

            if (demo is not null)
            {
                AnsiConsole.MarkupLine($"Demo tenant [bold]{demo.TenantSlug}[/]: sign in as [bold]{Markup.Escape(demo.Email)}[/] with password [bold]{Markup.Escape(demo.Password)}[/]");
            }

            AnsiConsole.MarkupLine("[dim]Press Ctrl-C to stop.[/]");
            await server.WaitForShutdownAsync(CancellationToken.None);
            AnsiConsole.MarkupLine("[dim]Stopping…[/]");
            return 0;
        });
        return command;
    }
}
