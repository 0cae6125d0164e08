using System.ComponentModel.DataAnnotations;

namespace Invisible.Platform;

/// <summary>How the building blocks are provided: by this process and its data directory, or by a Dapr sidecar.</summary>
public enum RuntimeMode
{
    Embedded,
    Dapr,
}

/// <summary>The <c>Runtime</c> configuration section.</summary>
public sealed class RuntimeOptions
{
    public const string SectionName = "Runtime";

    public RuntimeMode Mode { get; set; } = RuntimeMode.Embedded;

    /// <summary>Where the embedded adapters keep secrets, blobs and outgoing e-mail.</summary>
    [Required]
    public string DataDirectory { get; set; } = ".data";
}
