namespace Invisible.Identity.Passwords;

/// <summary>
/// NIST SP 800-63B style: length over composition rules. At least 12 characters, at most 128 (hashing cost stays bounded),
/// not a commonly used password, and not the account's own e-mail address.
/// </summary>
public static class PasswordPolicy
{
    public const int MinimumLength = 12;
    public const int MaximumLength = 128;

    /// <summary>Every rule the password breaks, as sentences a person can act on; empty when acceptable.</summary>
    public static IReadOnlyList<string> Check(string? password, string? email)
    {
        var problems = new List<string>();
        if (string.IsNullOrEmpty(password) || password.Length < MinimumLength)
        {
            problems.Add($"Use at least {MinimumLength} characters; a short phrase of unrelated words works well.");
            return problems;
        }

        if (password.Length > MaximumLength)
        {
            problems.Add($"Use at most {MaximumLength} characters.");
        }

        if (CommonPasswords.Contains(password))
        {
            problems.Add("This password is on lists of commonly used passwords; choose another.");
        }

        if (email is not null && (password.Equals(email, StringComparison.OrdinalIgnoreCase) ||
                                  password.Equals(email.Split('@')[0], StringComparison.OrdinalIgnoreCase)))
        {
            problems.Add("Do not use your e-mail address as the password.");
        }

        return problems;
    }
}
