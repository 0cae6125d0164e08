using System.Globalization;
using System.Net;
using Dapr.Client;

namespace Invisible.Platform.Dapr;

/// <summary>
/// An <see cref="HttpMessageHandler"/> that sends a typed client's requests through a Dapr HTTP output binding
/// (bindings.http) instead of the network: the method becomes the operation (<c>get</c>, <c>post</c>, ...), the part of the
/// URL after <paramref name="baseAddress"/> the <c>path</c> metadata (the binding's <c>url</c> names the host), request
/// headers become metadata (which the binding sends as headers), and the answer's <c>statusCode</c> and header metadata
/// come back as the response, so the client keeps reading status codes, <c>Retry-After</c> and error bodies. The component
/// must set <c>errorIfNot2XX: false</c>, else the sidecar turns every non-2xx answer into an error without its body.
/// </summary>
public sealed class DaprHttpBindingHandler(DaprClient dapr, string bindingName, Uri baseAddress) : HttpMessageHandler
{
    private static readonly HashSet<string> NotHeaders = new(["statusCode", "status"], StringComparer.OrdinalIgnoreCase);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var url = request.RequestUri?.AbsoluteUri ?? throw new InvalidOperationException("The request has no URL.");
        var prefix = baseAddress.AbsoluteUri.TrimEnd('/');
        if (!url.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The {bindingName} binding only reaches {prefix}; the request was for another address.");
        }

        var binding = new BindingRequest(bindingName, request.Method.Method.ToLowerInvariant());
        binding.Metadata["path"] = url[prefix.Length..];
        foreach (var header in request.Headers)
        {
            binding.Metadata[header.Key] = string.Join(", ", header.Value);
        }

        if (request.Content is not null)
        {
            binding.Data = await request.Content.ReadAsByteArrayAsync(cancellationToken);
            foreach (var header in request.Content.Headers)
            {
                binding.Metadata[header.Key] = string.Join(", ", header.Value);
            }
        }

        var answer = await dapr.InvokeBindingAsync(binding, cancellationToken);
        var status = answer.Metadata.TryGetValue("statusCode", out var code) && int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : 200;
        var response = new HttpResponseMessage((HttpStatusCode)status) { RequestMessage = request, Content = new ByteArrayContent(answer.Data.ToArray()) };
        foreach (var (name, value) in answer.Metadata.Where(pair => !NotHeaders.Contains(pair.Key)))
        {
            if (!response.Headers.TryAddWithoutValidation(name, value))
            {
                response.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return response;
    }
}
