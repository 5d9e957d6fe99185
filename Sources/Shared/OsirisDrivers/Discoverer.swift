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

/// The SQL of depth `profile`, shared by the SQL discoverers: one statistics query and one sample
/// query per table, in each dialect's quoting and cast to text.
struct ProfileQuery {
    /// Quotes an identifier.
    var quote: (String) -> String
    /// An expression converted to text.
    var text: (String) -> String

    /// The logical types whose own order gives min and max; other columns (text, uuid, bool, ...)
    /// are compared as text, and bytes and JSON have neither.
    static let ordered: Set<String> = ["int64", "float64", "decimal", "date", "time", "timestamp", "timestamptz"]

    /// The qualified name of a table (`"schema"."name"`, or the name alone when `schema` is nil).
    func qualified(_ table: SnapshotTable, schema: Bool) -> String {
        schema ? quote(table.schema) + "." + quote(table.name) : quote(table.name)
    }

    /// `count(*)`, then per column: non-null count, distinct count, min, max (as text).
    func statistics(_ table: SnapshotTable, from source: String) -> String {
        var items = ["count(*)"]
        for column in table.columns {
            let name = quote(column.name)
            items.append("count(\(name))")
            items.append("count(DISTINCT \(text(name)))")
            if Self.ordered.contains(column.logicalType) {
                items.append(text("min(\(name))"))
                items.append(text("max(\(name))"))
            } else if column.logicalType == "bytes" || column.logicalType == "json" {
                items.append("NULL")
                items.append("NULL")
            } else {
                items.append("min(\(text(name)))")
                items.append("max(\(text(name)))")
            }
        }
        return "SELECT " + items.joined(separator: ", ") + " FROM " + source
    }

    /// Fills the columns' statistics from the row of `statistics`.
    func apply(_ row: [String?], to table: inout SnapshotTable) {
        let total = row.first.flatMap { $0.flatMap { Int($0) } } ?? 0
        for index in table.columns.indices {
            let base = 1 + index * 4
            guard base + 3 < row.count else { break }
            let present = row[base].flatMap { Int($0) } ?? 0
            let fraction = total == 0 ? 0 : (Double(total - present) / Double(total) * 10_000).rounded() / 10_000
            table.columns[index].statistics = SnapshotColumnStatistics(
                nullFraction: fraction, distinctEstimate: row[base + 1].flatMap { Int($0) } ?? 0, min: row[base + 2], max: row[base + 3])
        }
    }

    /// Up to `limit` rows, every value as text, in primary-key order when the table has one.
    func sample(_ table: SnapshotTable, from source: String, limit: Int) -> String {
        let columns = table.columns.map { text(quote($0.name)) }.joined(separator: ", ")
        let order = table.primaryKey.isEmpty ? "" : " ORDER BY " + table.primaryKey.map(quote).joined(separator: ", ")
        return "SELECT \(columns) FROM \(source)\(order) LIMIT \(limit)"
    }

    /// The sample rows of `sample`, each an object by column name (NULL as JSON null).
    func sampleRows(_ rows: [[String?]], of table: SnapshotTable) -> [[String: JSONValue]] {
        rows.map { row in
            var object: [String: JSONValue] = [:]
            for (index, column) in table.columns.enumerated() where index < row.count {
                object[column.name] = row[index].map(JSONValue.string) ?? .null
            }
            return object
        }
    }

    /// Profiles `table` with `run` (a catalog query function): statistics, and samples unless
    /// `request.sample` is 0.
    func profile(
        _ table: inout SnapshotTable, source: String, request: DiscoveryRequest, run: (String) throws(StepError) -> [[String?]]
    ) throws(StepError) {
        guard !table.columns.isEmpty else { return }
        try request.cancellation.check()
        if let row = try run(statistics(table, from: source)).first { apply(row, to: &table) }
        if request.sample > 0 {
            table.sampleRows = sampleRows(try run(sample(table, from: source, limit: request.sample)), of: table)
        }
    }
}
