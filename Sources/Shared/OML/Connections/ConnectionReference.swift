/// A reference to a connection in an OML step: `"@family.alias"`, such as `"@pg.shop"`.
public struct ConnectionReference: Hashable, Sendable, CustomStringConvertible {
    /// The family as written (`pg`, `postgres`, `mysql`, ...).
    public let family: String
    /// The alias within the family.
    public let alias: String

    /// Creates a reference.
    public init(family: String, alias: String) {
        self.family = family
        self.alias = alias
    }

    /// Parses `@family.alias`; nil when the text has another shape. Names are letters, digits, `_` and `-`.
    public init?(parsing text: String) {
        guard text.hasPrefix("@") else { return nil }
        let body = text.dropFirst()
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, Self.isName(parts[0]), Self.isName(parts[1]) else { return nil }
        family = String(parts[0])
        alias = String(parts[1])
    }

    private static func isName(_ text: Substring) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                || scalar == "_" || scalar == "-"
        }
    }

    public var description: String { "@\(family).\(alias)" }
}

/// The connection families and how they relate to components (DESIGN.md §5).
public enum ConnectionFamily {
    /// Every family spelling the connections file and references accept, canonical name first.
    public static let spellings: [String: String] = [
        "pg": "postgres", "postgres": "postgres", "postgresql": "postgres",
        "supabase": "supabase",
        "mysql": "mysql", "mariadb": "mysql",
        "sqlite": "sqlite", "sqlite3": "sqlite",
        "filesystem": "filesystem", "file": "filesystem",
    ]

    /// The canonical family of a spelling (`pg` -> `postgres`), or nil for an unknown family.
    public static func canonical(_ family: String) -> String? { spellings[family.lowercased()] }

    /// Whether a connection of family `connection` can serve a component of family `component`.
    /// Supabase is PostgreSQL, so the two serve each other's components.
    public static func serves(connection: String, component: String) -> Bool {
        guard let connection = canonical(connection), let component = canonical(component) else { return false }
        let postgres: Set = ["postgres", "supabase"]
        if postgres.contains(connection) && postgres.contains(component) { return true }
        return connection == component
    }

    /// The spellings of a canonical family, for messages.
    public static func spellings(of canonicalFamily: String) -> [String] {
        spellings.filter { $0.value == canonicalFamily }.map(\.key).sorted()
    }
}
