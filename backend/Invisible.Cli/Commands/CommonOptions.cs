using System.CommandLine;

namespace Invisible.Cli.Commands;

internal static class CommonOptions
{
    public static readonly Option<DirectoryInfo> DataDirectory = new("--data-dir")
    {
        Description = "Where the product keeps its database, secrets and files.",
        DefaultValueFactory = _ => new DirectoryInfo(".data"),
        HelpName = "DIR",
        Recursive = true,
    };

    public static readonly Option<string> Tenant = new("--tenant")
    {
        Description = "The tenant to act on.",
        DefaultValueFactory = _ => "demo",
        HelpName = "SLUG",
    };
}
