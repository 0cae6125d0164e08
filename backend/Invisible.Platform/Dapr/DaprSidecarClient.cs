using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Invisible.Platform.Dapr;

/// <summary>
/// Calls the Dapr sidecar's HTTP API (https://docs.dapr.io/reference/api/): adds <c>dapr-api-token</c>, retries
/// transient failures a bounded number of times with exponential back-off, and turns error answers into
/// <see cref="DaprSidecarException"/> carrying Dapr's <c>errorCode</c>. One instance per process: the sidecar is on
/// loopback, so one long-lived connection pool is right and there is no DNS to refresh.
/// </summary>
public sealed class DaprSidecarClient : IDisposable
{
    public const string ApiTokenHeader = "dapr-api-token";

    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _retryTransient;
    private readonly ResiliencePipeline<HttpResponseMessage> _retryUnavailable;

    public DaprSidecarClient(IOptions<DaprOptions> options, ILogger<DaprSidecarClient> logger)
    {
        var dapr = options.Value;
        _http = new HttpClient { BaseAddress = dapr.SidecarAddress };
        if (!string.IsNullOrEmpty(dapr.ApiToken))
        {
            _http.DefaultRequestHeaders.Add(ApiTokenHeader, dapr.ApiToken);
        }

        _retryTransient = BuildRetry(dapr, logger, retryServerErrors: true);
        _retryUnavailable = BuildRetry(dapr, logger, retryServerErrors: false);
    }

    public Uri SidecarAddress => _http.BaseAddress!;

    public void Dispose() => _http.Dispose();

    /// <summary>Sends a request built afresh for every attempt (a request message can be sent only once).</summary>
    /// <param name="retryServerErrors">
    /// Whether a 5xx answer is worth another attempt. Not for bindings: the sidecar's resiliency policy already retries
    /// the component, and a binding reports permanent failures (a missing file) as 500 too.
    /// </param>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken, bool retryServerErrors = true) =>
        await (retryServerErrors ? _retryTransient : _retryUnavailable).ExecuteAsync(
            static async (state, token) => await state.http.SendAsync(state.createRequest(), token),
            (http: _http, createRequest),
            cancellationToken);

    /// <summary>Sends once, without retries: for probes whose caller decides when to try again.</summary>
    public Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _http.SendAsync(request, cancellationToken);

    public Task<HttpResponseMessage> PostJsonAsync<T>(string path, T body, CancellationToken cancellationToken, bool retryServerErrors = true) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: DaprJson.Options) }, cancellationToken, retryServerErrors);

    /// <exception cref="DaprSidecarException">The answer is not a success.</exception>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        throw DaprSidecarException.From(operation, response.StatusCode, body);
    }

    private static ResiliencePipeline<HttpResponseMessage> BuildRetry(DaprOptions dapr, ILogger logger, bool retryServerErrors)
    {
        if (dapr.MaxRetryAttempts == 0)
        {
            return ResiliencePipeline<HttpResponseMessage>.Empty;
        }

        return new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = dapr.MaxRetryAttempts,
            Delay = dapr.RetryBaseDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                .Handle<HttpRequestException>()
                .HandleResult(response => IsTransient(response.StatusCode, retryServerErrors)),
            OnRetry = attempt =>
            {
                // The previous response is discarded; release its connection before the next attempt.
                attempt.Outcome.Result?.Dispose();
                logger.LogWarning(attempt.Outcome.Exception, "Dapr sidecar call failed ({Status}); retry {Attempt} in {Delay}",
                    attempt.Outcome.Result?.StatusCode.ToString() ?? attempt.Outcome.Exception?.GetType().Name, attempt.AttemptNumber + 1, attempt.RetryDelay);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    private static bool IsTransient(HttpStatusCode status, bool retryServerErrors) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
        || (retryServerErrors && (int)status >= 500);
}

/// <summary>The sidecar answered with an error. <see cref="ErrorCode"/> is Dapr's (e.g. <c>ERR_STATE_STORE_NOT_FOUND</c>).</summary>
public sealed class DaprSidecarException(string message, HttpStatusCode statusCode, string? errorCode) : Exception(message)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    public string? ErrorCode { get; } = errorCode;

    public static DaprSidecarException From(string operation, HttpStatusCode status, string body)
    {
        string? errorCode = null;
        var detail = body;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                errorCode = json.RootElement.TryGetProperty("errorCode", out var code) ? code.GetString() : null;
                detail = json.RootElement.TryGetProperty("message", out var message) ? message.GetString() ?? body : body;
            }
        }
        catch (JsonException)
        {
            // Not Dapr's JSON error shape: keep the raw text as the detail.
        }

        return new DaprSidecarException($"Dapr {operation} failed: {(int)status} {errorCode} {detail}".Trim(), status, errorCode);
    }
}

/// <summary>The JSON convention of the Dapr API bodies (camelCase).</summary>
public static class DaprJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}
