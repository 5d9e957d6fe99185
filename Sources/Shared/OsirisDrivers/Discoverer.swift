import OML
import OsirisCore

/// How deep discovery goes (DESIGN.md §8).
public enum DiscoveryDepth: String, Sendable, CaseIterable {
    /// The catalog only: table names, kinds and row estimates.
    case tables
    /// Tables with their columns (native and logical types, nullability), primary and foreign keys.
    case columns
    /// Columns plus samples and statistics; drivers that cannot profile yet answer as for `columns`.
    case profile
}

/// What to discover on one connection.
public struct DiscoveryRequest: Sendable {
    /// The connection, resolved (see `ConnectionResolver`).
    public var connection: ResolvedConnection
    /// How deep to go.
    public var depth: DiscoveryDepth
    /// Table patterns (`orders`, `sales.*`, `cust*`, matched against `name` and `schema.name`;
    /// `*` any run of characters, `?` one); empty means every table.
    public var tables: [String]
    /// Set when the caller is interrupted; drivers interrupt their catalog queries.
    public var cancellation: CancellationToken
    /// How many sample rows to take per table at depth `profile` (0: none).
    public var sample: Int
    /// The masker secrets are registered with; every message passes through it.
    public var masker: SecretMasker
    /// Seconds a single catalog or profile query may run before the server stops it.
    public var statementTimeout: Int
    /// Called with every query a discoverer sends, before sending it (tests count them; nil: nothing).
    public var onQuery: (@Sendable (String) -> Void)?

    /// Creates a request.
    public init(connection: ResolvedConnection, depth: DiscoveryDepth = .columns, tables: [String] = [],
                cancellation: CancellationToken = CancellationToken(), sample: Int = 5, masker: SecretMasker = SecretMasker(),
                statementTimeout: Int = 30) {
        self.connection = connection
        self.depth = depth
        self.tables = tables
        self.cancellation = cancellation
        self.sample = sample
        self.masker = masker
        self.statementTimeout = statementTimeout
    }

    /// Reports a query to `onQuery`.
    package func observe(_ sql: String) { onQuery?(sql) }

    /// Whether a table is selected by `tables`.
    public func selects(schema: String, name: String) -> Bool {
        tables.isEmpty || tables.contains { pattern in
            Self.matches(pattern, name) || Self.matches(pattern, schema + "." + name)
        }
    }

    /// Glob matching with `*` and `?`, case-sensitive.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let pattern = Array(pattern.unicodeScalars), text = Array(text.unicodeScalars)
        var p = 0, t = 0, star = -1, mark = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                mark = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                mark += 1
                t = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}

/// What discovery found: the content of a snapshot (DESIGN.md §8) before the tool adds the
/// connection, depth and fingerprint.
public struct DiscoveryResult: Sendable, Equatable {
    /// The database's name, when it has one.
    public var database: String?
    /// The server's (or engine's) version.
    public var serverVersion: String?
    /// The selected tables, sorted by schema and name; columns in ordinal order (none at depth `tables`).
    public var tables: [SnapshotTable]

    /// Creates a result.
    public init(database: String?, serverVersion: String?, tables: [SnapshotTable]) {
        self.database = database
        self.serverVersion = serverVersion
        self.tables = tables
    }
}

/// Reads a database's catalog (DESIGN.md §7.2, §8), in a read-only transaction; one per connection
/// family, found with `DriverRegistry.discoverer(forFamily:)`.
public protocol Discoverer: Sendable {
    /// Discovers the catalog of `request.connection` at `request.depth`.
    func discover(_ request: DiscoveryRequest) throws(StepError) -> DiscoveryResult

    /// A cheap hash of the catalog's structure (one query), which changes whenever a table, column,
    /// key, default or comment does; nil when the discoverer has none, so nothing is cached.
    func structureHash(_ request: DiscoveryRequest) throws(StepError) -> String?
}

extension Discoverer {
    /// No structure hash: discovery always reads the catalog.
    public func structureHash(_ request: DiscoveryRequest) throws(StepError) -> String? { nil }
}
