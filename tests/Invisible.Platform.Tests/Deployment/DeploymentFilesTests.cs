using System.Reflection;
using System.Text.Json;
using Invisible.Platform.Secrets;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Invisible.Platform.Tests.Deployment;

/// <summary>
/// The deployment files parse, and agree with each other and with the code: component names, scopes, secret
/// references, the files and components that dapr.yaml, docker-compose.yml and the Dockerfile point at.
/// </summary>
public sealed class DeploymentFilesTests
{
    internal static readonly string Root = FindRepositoryRoot();
    private static readonly string[] AppIds = ["api", "worker"];

    private static readonly IReadOnlyList<YamlMap> Components = Directory.GetFiles(Path.Combine(Root, "components"), "*.yaml")
        .Select(LoadYaml)
        .Where(document => document.Text("kind") == "Component")
        .ToList();

    [Fact]
    public void Every_component_name_in_code_has_a_component_file_and_every_component_file_is_named_in_code()
    {
        var inCode = typeof(DaprComponents).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral)
            .Select(field => (string)field.GetRawConstantValue()!)
            .Order()
            .ToList();

        Assert.Equal(inCode, Components.Select(c => c.Map("metadata").Text("name")).Order().ToList());
    }

    [Fact]
    public void Every_component_and_the_resiliency_policy_are_scoped_to_the_app_ids_that_exist()
    {
        var resiliency = Directory.GetFiles(Path.Combine(Root, "components"), "*.yaml").Select(LoadYaml).Single(d => d.Text("kind") == "Resiliency");

        foreach (var document in Components.Append(resiliency))
        {
            var scopes = document.List("scopes").Select(s => (string)s).ToList();
            Assert.NotEmpty(scopes);
            Assert.All(scopes, scope => Assert.Contains(scope, AppIds));
        }
    }

    [Fact]
    public void Every_secret_reference_resolves_to_a_key_of_the_secret_store_through_auth_secretStore()
    {
        var secretStore = Components.Single(c => c.Map("metadata").Text("name") == DaprComponents.SecretStore);
        Assert.Equal("secretstores.local.file", secretStore.Map("spec").Text("type"));
        var secretsFile = secretStore.Map("spec").List("metadata").Cast<Dictionary<object, object>>().Select(m => new YamlMap(m))
            .Single(m => m.Text("name") == "secretsFile").Text("value");
        var secrets = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(Root, secretsFile)))!;

        var references = 0;
        foreach (var component in Components)
        {
            foreach (var item in component.Map("spec").List("metadata").Cast<Dictionary<object, object>>().Select(m => new YamlMap(m)))
            {
                if (!item.Has("secretKeyRef"))
                {
                    continue;
                }

                references++;
                var reference = item.Map("secretKeyRef");
                var where = $"{component.Map("metadata").Text("name")}.{item.Text("name")}";
                Assert.True(secrets.ContainsKey(reference.Text("name")), $"{where}: secret '{reference.Text("name")}' is not in {secretsFile}");
                Assert.Equal(reference.Text("name"), reference.Text("key"));
                Assert.True(item.Has("value") is false, $"{where} has both a value and a secretKeyRef");
                Assert.Equal(DaprComponents.SecretStore, component.Map("auth").Text("secretStore"));
            }
        }

        Assert.True(references >= 3, "pub/sub, state store and SMTP take their credentials from the secret store");
    }

    [Fact]
    public void Every_secret_the_product_reads_is_defined_in_the_development_secret_store()
    {
        var secrets = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(Root, "components", "secrets.json")))!;
        var readByCode = typeof(SecretNames).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!);

        Assert.All(readByCode, name => Assert.Contains(name, secrets.Keys));
    }

    [Fact]
    public void The_resiliency_policy_targets_only_components_that_exist_with_policies_it_defines()
    {
        var resiliency = Directory.GetFiles(Path.Combine(Root, "components"), "*.yaml").Select(LoadYaml).Single(d => d.Text("kind") == "Resiliency");
        var policies = resiliency.Map("spec").Map("policies");
        var names = Components.Select(c => c.Map("metadata").Text("name")).ToHashSet();

        foreach (var (component, directions) in resiliency.Map("spec").Map("targets").Map("components").Entries)
        {
            Assert.Contains(component, names);
            foreach (var (_, target) in new YamlMap((Dictionary<object, object>)directions).Entries)
            {
                var uses = new YamlMap((Dictionary<object, object>)target);
                Assert.All(uses.Entries, use => Assert.True(
                    policies.Map(use.Key switch { "retry" => "retries", "timeout" => "timeouts", _ => "circuitBreakers" }).Has((string)use.Value),
                    $"{component}: {use.Key} policy '{use.Value}' is not defined"));
            }
        }
    }

    [Fact]
    public void The_multi_app_run_file_runs_api_and_worker_in_dapr_mode_with_existing_resources()
    {
        var run = LoadYaml("dapr.yaml");
        var common = run.Map("common");

        Assert.True(Directory.Exists(Path.Combine(Root, common.Text("resourcesPath"))));
        Assert.True(File.Exists(Path.Combine(Root, common.Text("configFilePath"))));
        Assert.Equal("dapr", common.Map("env").Text("Runtime__Mode"));
        Assert.Equal(BlobRootPath(), common.Map("env").Text("Dapr__BlobStoreRootPath"));
        var apps = run.List("apps").Cast<Dictionary<object, object>>().Select(a => new YamlMap(a)).ToList();
        Assert.Equal(AppIds, apps.Select(a => a.Text("appID")).Order());
        Assert.All(apps, app =>
        {
            var command = app.List("command").Select(c => (string)c).ToList();
            Assert.Equal(["serve", "--role", app.Text("appID")], command.Skip(1).Take(3));
            Assert.Equal(app.Text("appPort"), command[command.IndexOf("--port") + 1]);
        });
        Assert.Equal(apps.Count, apps.Select(a => a.Text("daprHTTPPort")).Distinct().Count());
        Assert.Equal(apps.Count, apps.Select(a => a.Text("daprGRPCPort")).Distinct().Count());
    }

    [Fact]
    public void Compose_pairs_each_app_with_a_sidecar_and_mounts_only_files_that_exist()
    {
        var compose = LoadYaml("docker-compose.yml");
        var services = compose.Map("services");

        foreach (var appId in AppIds)
        {
            var app = services.Map(appId);
            var sidecar = services.Map($"{appId}-dapr");
            Assert.Equal($"service:{appId}", sidecar.Text("network_mode"));
            var command = sidecar.List("command").Select(c => (string)c).ToList();
            Assert.Equal(appId, command[command.IndexOf("--app-id") + 1]);
            Assert.Equal(app.Map("environment").Text("DAPR_HTTP_PORT"), command[command.IndexOf("--dapr-http-port") + 1]);
            Assert.Equal(app.Map("environment").Text("DAPR_GRPC_PORT"), command[command.IndexOf("--dapr-grpc-port") + 1]);
            Assert.Equal("/components", command[command.IndexOf("--resources-path") + 1]);
            Assert.Equal("dapr", app.Map("environment").Text("Runtime__Mode"));
            Assert.Equal(BlobRootPath(), app.Map("environment").Text("Dapr__BlobStoreRootPath"));
            Assert.Equal(["serve", "--role", appId, "--listen", "0.0.0.0"], app.List("command").Select(c => (string)c));
            Assert.Equal(sidecar.Map("environment").Text("APP_API_TOKEN"), app.Map("environment").Text("APP_API_TOKEN"));
            Assert.Equal(sidecar.Map("environment").Text("DAPR_API_TOKEN"), app.Map("environment").Text("DAPR_API_TOKEN"));
            Assert.True(File.Exists(Path.Combine(Root, app.Map("build").Text("dockerfile"))));
            Assert.Contains(sidecar.List("volumes").Select(v => (string)v), v => v.StartsWith($"blobs:{BlobRootPath()}", StringComparison.Ordinal));

            // The sidecar's --config path must be inside one of its mounts.
            var config = command[command.IndexOf("--config") + 1];
            var mount = sidecar.List("volumes").Select(v => ((string)v).Split(':')).Single(v => v[0].StartsWith("./", StringComparison.Ordinal) && config.StartsWith(v[1] + "/", StringComparison.Ordinal));
            Assert.True(File.Exists(Path.Combine(Root, mount[0], config[(mount[1].Length + 1)..])), $"{appId}-dapr --config {config} does not exist");
        }

        Assert.True(services.Has("postgres") && services.Has("redis") && services.Has("otel-collector"));
        var bindMounts = services.Entries.SelectMany(s => new YamlMap((Dictionary<object, object>)s.Value).Has("volumes")
            ? new YamlMap((Dictionary<object, object>)s.Value).List("volumes").Select(v => ((string)v).Split(':')[0])
            : []).Where(source => source.StartsWith("./", StringComparison.Ordinal));
        Assert.All(bindMounts, source => Assert.True(Path.Exists(Path.Combine(Root, source)), $"compose mounts {source}, which does not exist"));
    }

    [Fact]
    public void The_image_is_built_in_stages_and_runs_on_the_aspnet_runtime_as_a_non_root_user()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "backend", "Dockerfile")).Where(l => !l.TrimStart().StartsWith('#')).ToList();
        var stages = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();

        Assert.True(stages.Count >= 2);
        Assert.Contains("dotnet/sdk", stages[^2], StringComparison.Ordinal);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:", stages[^1], StringComparison.Ordinal);
        var finalStage = lines.SkipWhile(l => l != stages[^1]).ToList();
        var user = Assert.Single(finalStage, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.DoesNotContain("root", user, StringComparison.Ordinal);
    }

    private static string BlobRootPath()
    {
        var blobStore = Components.Single(c => c.Map("metadata").Text("name") == DaprComponents.BlobStore);
        return blobStore.Map("spec").List("metadata").Cast<Dictionary<object, object>>().Select(m => new YamlMap(m))
            .Single(m => m.Text("name") == "rootPath").Text("value");
    }

    private static YamlMap LoadYaml(string relativeOrFullPath)
    {
        using var reader = new StreamReader(Path.Combine(Root, relativeOrFullPath));

        // The merging parser resolves docker compose's "<<: *anchor" extension fields.
        var document = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(reader)));
        return new YamlMap(document);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Invisible.Dapr.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Invisible.Dapr.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>A YAML mapping with lookups that fail with the missing key's name.</summary>
    private sealed class YamlMap(Dictionary<object, object> map)
    {
        public IEnumerable<KeyValuePair<string, object>> Entries => map.Select(e => new KeyValuePair<string, object>((string)e.Key, e.Value));

        public bool Has(string key) => map.ContainsKey(key);

        public string Text(string key) => Get(key) as string ?? throw new InvalidDataException($"'{key}' is not a scalar");

        public YamlMap Map(string key) => new(Get(key) as Dictionary<object, object> ?? throw new InvalidDataException($"'{key}' is not a mapping"));

        public List<object> List(string key) => Get(key) as List<object> ?? throw new InvalidDataException($"'{key}' is not a sequence");

        private object Get(string key) => map.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"missing '{key}' (has: {string.Join(", ", map.Keys)})");
    }
}
