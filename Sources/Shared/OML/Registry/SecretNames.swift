/// The config and connection field names whose values are secrets whatever the component: what the
/// linter refuses in OML (OML305) and what the runner registers with the masker when it resolves a
/// connection. One list, so the two can never disagree.
public enum SecretNames {
    /// Names that are secrets as they are.
    public static let exact: Set<String> = [
        "password", "passwd", "pwd", "pass", "token", "api_key", "apikey", "secret", "key", "dsn", "pg_dsn",
        "connection_string", "connection_url", "private_key", "secret_key", "access_key", "access_token",
        "auth_token", "refresh_token", "client_secret", "credentials", "service_role_key", "anon_key",
    ]

    /// Endings that make a name a secret (`db_password`, `github_token`).
    public static let suffixes = ["_password", "_passwd", "_token", "_secret", "_api_key", "_apikey", "_dsn"]

    /// Whether a field name says its value is a secret, ignoring case.
    public static func contains(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return exact.contains(lowered) || suffixes.contains { lowered.hasSuffix($0) }
    }
}
