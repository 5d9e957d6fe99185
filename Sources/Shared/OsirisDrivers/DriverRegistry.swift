import OML
/// The drivers of the components this build can run.
public struct DriverRegistry: Sendable {
    private let drivers: [String: Driver]
    /// Discoverers by canonical connection family.
    private let discoverers: [String: any Discoverer]

    /// The built-in drivers: files, SQLite, PostgreSQL (and Supabase) and MariaDB/MySQL.
    public init() {
        drivers = [
            "filesystem.csv_extractor": .extractor(CSVFileExtractor()),
            "filesystem.csv_writer": .writer(CSVFileWriter()),
            "filesystem.jsonl_writer": .writer(JSONLinesFileWriter()),
            "sqlite.extractor": .extractor(SQLiteExtractor()),
            "sqlite.writer": .writer(SQLiteWriter()),
            "sqlite.processor": .processor(SQLiteProcessor()),
            "postgres.extractor": .extractor(PostgreSQLExtractor()),
            "supabase.extractor": .extractor(PostgreSQLExtractor()),
            "postgres.writer": .writer(PostgreSQLWriter()),
            "supabase.writer": .writer(PostgreSQLWriter()),
            "postgres.processor": .processor(PostgreSQLProcessor()),
            "mysql.extractor": .extractor(MySQLExtractor()),
            "mysql.writer": .writer(MySQLWriter()),
        ]
        discoverers = ["sqlite": SQLiteDiscoverer(), "postgres": PostgreSQLDiscoverer(), "supabase": PostgreSQLDiscoverer(), "mysql": MySQLDiscoverer(), "filesystem": FilesystemDiscoverer()]
    }

    /// A registry of the given drivers, for tests that need drivers of their own.
    package init(drivers: [String: Driver], discoverers: [String: any Discoverer] = [:]) {
        self.drivers = drivers
        self.discoverers = discoverers
    }

    /// The discoverer of a connection family (any spelling: `pg`, `postgresql`, ...), or nil when
    /// this build cannot discover it.
    public func discoverer(forFamily family: String) -> (any Discoverer)? {
        discoverers[ConnectionFamily.canonical(family) ?? family]
    }

    /// The families this build can discover, sorted.
    public var discoverableFamilies: [String] { discoverers.keys.sorted() }

    /// The driver of a component, or nil when this build cannot run it.
    public func driver(for component: String) -> Driver? { drivers[component] }

    /// The components this build can run, sorted.
    public var components: [String] { drivers.keys.sorted() }
}
