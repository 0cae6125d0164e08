using Invisible.Ingestion.Mail;
using Invisible.Platform.Email;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Intake;

/// <summary>
/// The optional answer to a sender (<c>Email:Intake:ReplyToSender</c>): what became of each attachment, through the
/// e-mail building block. A reply that cannot be sent is logged, never a reason to fail the intake.
/// </summary>
public sealed class IntakeReplies(IEmailSender sender, IOptions<EmailIntakeOptions> options, ILogger<IntakeReplies> logger)
{
    public async Task SendOutcomeAsync(MailReading reading, IntakeMessageRow message, IReadOnlyList<IntakeAttachmentRow> attachments, CancellationToken cancellationToken)
    {
        if (!options.Value.ReplyToSender || reading.From.Length == 0)
        {
            return;
        }

        var lines = attachments.Count == 0
            ? ["The message had no attachments, so nothing was imported."]
            : attachments.Select(a => $"- {a.Path}: {a.Outcome.Replace('_', ' ')}{(a.Note is null ? "" : $" ({a.Note})")}").ToList();
        var body = $"Your message \"{message.Subject}\" was received as message #{message.MessageNo}.\n\n{string.Join('\n', lines)}\n";
        try
        {
            await sender.SendAsync(new EmailMessage([new EmailAddress(reading.From)], $"Received: {message.Subject}", body), cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Could not reply to the sender of intake message {IntakeMessageId}", message.Id);
        }
    }
}
