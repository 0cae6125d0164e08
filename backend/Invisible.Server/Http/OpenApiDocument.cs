using Invisible.Server.Rpc;
using Microsoft.OpenApi.Models;

namespace Invisible.Server.Http;

/// <summary>
/// <c>GET /openapi/v1.json</c>: the REST/JSON mapping of the API (the <c>google.api.http</c> rules in <c>protos/</c>) as an
/// OpenAPI document, generated from the protos and their comments by Microsoft.AspNetCore.Grpc.Swagger.
/// </summary>
public static class OpenApiDocument
{
    public const string Path = "/openapi/v1.json";

    public static IServiceCollection AddOpenApiDocument(this IServiceCollection services)
    {
        services.AddGrpcSwagger();
        // AddGrpcSwagger calls AddGrpc again, bringing back the request binding that answers malformed requests UNKNOWN.
        services.AddMalformedRequestRefusal();
        services.AddSwaggerGen(swagger =>
        {
            swagger.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Invisible API",
                Version = "v1",
                Description = "Invoice reconciliation for accounts payable. Authenticate with `x-api-key: ink_…` (an API key) or " +
                              "`authorization: Bearer …` (a signed-in user's access token). Errors are google.rpc.Status as JSON: " +
                              "branch on details[].reason (google.rpc.ErrorInfo).",
            });
            var comments = System.IO.Path.Combine(AppContext.BaseDirectory, "Invisible.Contracts.xml");
            if (File.Exists(comments))
            {
                swagger.IncludeGrpcXmlComments(comments, includeControllerXmlComments: true);
            }

            swagger.AddSecurityDefinition("apiKey", new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "x-api-key" });
            swagger.AddSecurityDefinition("bearer", new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT" });
            swagger.AddSecurityRequirement(new OpenApiSecurityRequirement
            {
                [new OpenApiSecurityScheme { Reference = new OpenApiReference { Type = ReferenceType.SecurityScheme, Id = "apiKey" } }] = [],
                [new OpenApiSecurityScheme { Reference = new OpenApiReference { Type = ReferenceType.SecurityScheme, Id = "bearer" } }] = [],
            });
        });
        return services;
    }

    public static WebApplication MapOpenApiDocument(this WebApplication app)
    {
        app.UseSwagger(options => options.RouteTemplate = "openapi/{documentName}.json");
        return app;
    }
}
