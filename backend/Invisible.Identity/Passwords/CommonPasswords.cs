namespace Invisible.Identity.Passwords;

/// <summary>
/// Commonly used passwords of 12+ characters (shorter ones fail the length rule anyway), compared case-insensitively
/// and ignoring a trailing run of digits or punctuation people append to satisfy rules ("Password1234!").
/// </summary>
internal static class CommonPasswords
{
    private static readonly HashSet<string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        "123456789012", "1234567890123", "12345678901234", "123456789123", "qwertyuiopasdfghjkl", "qwertyuiop123",
        "password", "passw0rd", "password1234", "password12345", "passwordpassword", "iloveyou", "letmein",
        "welcome", "welcome2024", "welcome2025", "welcome2026", "changeme", "changeme123", "administrator", "admin",
        "qwerty", "qwertyuiop", "qwertyqwerty", "asdfghjkl", "asdfghjklzxcvbnm", "zxcvbnm", "1q2w3e4r5t6y", "1qaz2wsx3edc",
        "q1w2e3r4t5y6", "trustno1", "football", "baseball", "basketball", "superman", "batman", "starwars", "pokemon",
        "princess", "sunshine", "whatever", "dragon", "monkey", "shadow", "master", "michael", "jennifer", "jordan",
        "liverpool", "chelsea", "arsenal", "manchester", "computer", "internet", "secret", "default", "summer",
        "winter", "spring", "autumn", "january", "december", "september", "invisible", "accountspayable", "invoice",
        "invoices", "finance", "accounting", "company", "letmeinplease", "opensesame", "abcdefghijkl", "abcdefg",
        "abc123abc123", "aaaaaaaaaaaa", "111111111111", "000000000000", "987654321098", "correcthorsebatterystaple",
        "myspace", "facebook", "google", "microsoft", "apple", "samsung", "iloveyou123", "loveyou", "lovely",
        "freedom", "hello", "helloworld", "hellohello", "goodluck", "blessed", "ginger", "charlie", "thomas",
    };

    public static bool Contains(string password)
    {
        var core = password.Trim().TrimEnd("0123456789!@#$%^&*()-_=+.?".ToCharArray());
        return Known.Contains(password.Trim()) || (core.Length > 0 && Known.Contains(core));
    }
}
