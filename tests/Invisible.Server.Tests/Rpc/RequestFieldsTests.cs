using Invisible.Server.Errors;
using Invisible.Server.Rpc;

namespace Invisible.Server.Tests.Rpc;

public sealed class RequestFieldsTests
{
    [Theory]
    [InlineData(0, 50)]
    [InlineData(1, 1)]
    [InlineData(200, 200)]
    public void Page_size_zero_is_the_default_and_others_pass_within_the_limit(int requested, int expected) =>
        Assert.Equal(expected, RequestFields.PageSize(requested, 200));

    [Theory]
    [InlineData(-1)]
    [InlineData(201)]
    public void Page_size_outside_the_limit_is_a_page_size_violation(int requested)
    {
        var thrown = Assert.Throws<DomainException>(() => RequestFields.PageSize(requested, 200));
        var collected = new List<FieldViolation>();
        RequestFields.PageSize(requested, 200, collected);

        Assert.Equal((ErrorKind.InvalidArgument, "page_size"), (thrown.Kind, Assert.Single(thrown.FieldViolations).Field));
        Assert.Equal("page_size", Assert.Single(collected).Field);
    }

    [Fact]
    public void Tokens_read_back_what_they_wrote()
    {
        Assert.Equal(40, RequestFields.ParseOffsetToken(RequestFields.OffsetToken(40)));
        Assert.Equal(17L, RequestFields.ParseSequenceToken(RequestFields.SequenceToken(17)));
        Assert.Equal("VEND-ä/1", RequestFields.ParseKeyToken(RequestFields.KeyToken("VEND-ä/1")));
        Assert.Equal((0, (long?)null, (string?)null),
            (RequestFields.ParseOffsetToken(""), RequestFields.ParseSequenceToken(""), RequestFields.ParseKeyToken("")));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("0")]
    public void A_token_the_service_did_not_issue_is_a_page_token_violation(string token)
    {
        var collected = new List<FieldViolation>();

        Assert.Null(RequestFields.ParseSequenceToken(token, collected));
        Assert.Equal("page_token", Assert.Single(collected).Field);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    public void An_offset_token_the_service_did_not_issue_is_refused_naming_page_token(string token) =>
        Assert.Equal("page_token", Assert.Single(Assert.Throws<DomainException>(() => RequestFields.ParseOffsetToken(token)).FieldViolations).Field);

    [Fact]
    public void An_id_that_is_not_one_names_its_field()
    {
        var id = Guid.NewGuid();

        var thrown = Assert.Throws<DomainException>(() => RequestFields.ParseId("nope", "import_id"));

        Assert.Equal(id, RequestFields.ParseId(id.ToString(), "import_id"));
        Assert.Equal((ErrorKind.InvalidArgument, "import_id"), (thrown.Kind, Assert.Single(thrown.FieldViolations).Field));
    }
}
