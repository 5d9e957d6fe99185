import OML
import OsirisCore
import OsirisDrivers

/// What `osiris-discover` was asked for (DESIGN.md §8).
public struct DiscoveryOptions: Sendable {
    /// The connection as given: `@family.alias`, a family alone, or a URL (`postgres://`, `mysql://`,
    /// `sqlite:PATH`, `file:DIR`).
    public var connection: String
    /// How deep to go.
    public var depth: DiscoveryDepth
    /// Table patterns (`orders`, `sales.*`); empty means every table.
    public var tables: [String]
    /// Sample rows per table at depth `profile`.
    public var sample: Int
    /// Whether to ignore a cached snapshot (a fresh one is still cached).
    public var refresh: Bool
    /// The cache folder (`$XDG_CACHE_HOME/osiris/discovery`), or nil for no cache.
    public var cacheDirectory: String?
    /// Seconds each catalog query may run.
    public var statementTimeout: Int
    /// Called with every query a discoverer sends (tests count catalog queries with it).
    package var onQuery: (@Sendable (String) -> Void)?

    /// Creates options with the defaults of osiris-discover(1).
    public init(
        connection: String, depth: DiscoveryDepth = .columns, tables: [String] = [], sample: Int = 5, refresh: Bool = false,
        cacheDirectory: String? = nil, statementTimeout: Int = 30
    ) {
        self.connection = connection
        self.depth = depth
        self.tables = tables
        self.sample = sample
        self.refresh = refresh
        self.cacheDirectory = cacheDirectory
        self.statementTimeout = statementTimeout
    }
}

/// What a discovery produced.
public struct DiscoveryOutcome: Sendable {
    /// The snapshot's canonical JSON, one line ending in a newline: the bytes to print or write.
    public var bytes: [UInt8]
    /// Whether the snapshot came from the cache.
    public var fromCache: Bool
    /// Problems that did not stop discovery, such as a cache that cannot be written.
    public var warnings: [String]
}

/// Discovery from a connection name to snapshot bytes: resolves the connection, consults the cache,
/// runs the family's discoverer and builds the deterministic snapshot (DESIGN.md §8).
public enum Discovery {
    /// The cache folder: `$XDG_CACHE_HOME/osiris/discovery`, else `$HOME/.cache/osiris/discovery`;
    /// nil when neither variable is set.
    public static func cacheDirectory(environment: [String: String]) -> String? {
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") { return cache + "/osiris/discovery" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.cache/osiris/discovery" }
        return nil
    }

    /// Discovers `options.connection` the way a tool names it: with the connections file the tool found
    /// (or nil; `searched` says where it looked, for messages), `${VAR}` from `environment`, and every
    /// secret registered with `masker`. `osiris-discover` and `osiris-chat --connection` both start here.
    public static func run(
        _ options: DiscoveryOptions, connections: ConnectionsFile?, searched: String, environment: [String: String],
        cancellation: CancellationToken = CancellationToken(), masker: SecretMasker
    ) throws(DiscoveryError) -> DiscoveryOutcome {
        let resolver = ConnectionResolver(connections: connections, searched: searched, environment: environment, masker: masker)
        return try run(options, resolver: resolver, cancellation: cancellation, masker: masker)
    }

    /// Discovers `options.connection` and returns the snapshot. Errors carry the exit status of
    /// DESIGN.md §1 and messages passed through `masker`.
    public static func run(
        _ options: DiscoveryOptions, resolver: ConnectionResolver, registry: DriverRegistry = DriverRegistry(),
        cancellation: CancellationToken = CancellationToken(), masker: SecretMasker
    ) throws(DiscoveryError) -> DiscoveryOutcome {
        let connection = try resolve(options.connection, resolver: resolver, masker: masker)
        try checkLocalFiles(connection)
        guard let discoverer = registry.discoverer(forFamily: connection.family) else {
            throw DiscoveryError(
                "this build cannot discover '\(connection.family)' connections (it can: \(registry.discoverableFamilies.joined(separator: ", ")))",
                exitStatus: .configuration)
        }
        var request = DiscoveryRequest(
            connection: connection, depth: options.depth, tables: options.tables, cancellation: cancellation,
            sample: options.sample, masker: masker, statementTimeout: options.statementTimeout)
        request.onQuery = options.onQuery
        do {
            var warnings: [String] = []
            // Profiles hold data, which changes without the structure changing: never cached.
            let cache = options.depth == .profile ? nil : options.cacheDirectory.map {
                DiscoveryCache(directory: $0, key: DiscoveryCache.key(connection: connection, options: options))
            }
            var hash: String?
            if let cache {
                hash = try discoverer.structureHash(request)
                if let hash, !options.refresh, let cached = cache.read(structureHash: hash) {
                    return DiscoveryOutcome(bytes: cached, fromCache: true, warnings: [])
                }
            }
            let result = try discoverer.discover(request)
            let snapshot = SnapshotBuilder.snapshot(result, connection: connection, depth: options.depth)
            let bytes = JSONWriter.line(snapshot.json)
            if let cache, let hash, let warning = cache.write(bytes, structureHash: hash) { warnings.append(masker.mask(warning)) }
            return DiscoveryOutcome(bytes: bytes, fromCache: false, warnings: warnings)
        } catch {
            // SIGINT ends with 130, SIGTERM with 143, whatever the cancelled query reported.
            if cancellation.isCancelled { throw DiscoveryError("interrupted", exitStatus: cancellation.exitStatus) }
            throw DiscoveryError(error, masker: masker)
        }
    }

    /// The connection a name stands for; `file:DIR` names a folder of CSV / JSON-lines files.
    static func resolve(_ text: String, resolver: ConnectionResolver, masker: SecretMasker) throws(DiscoveryError) -> ResolvedConnection {
        if text.hasPrefix("file:") {
            var path = Substring(text.dropFirst("file:".count))
            if path.hasPrefix("//") { path = path.dropFirst(2) }
            guard !path.isEmpty else { throw DiscoveryError("the file URL names no folder (file:DIR)", exitStatus: .usage) }
            return ResolvedConnection(reference: text, family: "filesystem", fields: ["base_dir": .string(String(path))])
        }
        do {
            // `@family` names the family's default alias, like the family alone.
            if text.hasPrefix("@"), !text.contains("."), ConnectionFamily.canonical(String(text.dropFirst())) != nil {
                return try resolver.resolve(String(text.dropFirst()))
            }
            return try resolver.resolve(text)
        } catch {
            throw DiscoveryError(error, masker: masker)
        }
    }

    /// A SQLite file or a folder that does not exist is a missing input (66), not a failed discovery.
    static func checkLocalFiles(_ connection: ResolvedConnection) throws(DiscoveryError) {
        switch connection.family {
        case "sqlite":
            if let path = connection.fields["path"]?.stringValue, !DirectoryWalker.exists(path) {
                throw DiscoveryError("SQLite database '\(path)' does not exist (connection '\(connection.reference)')", exitStatus: .noInput)
            }
        case "filesystem":
            if let path = (connection.fields["base_dir"] ?? connection.fields["path"])?.stringValue, !DirectoryWalker.isDirectory(path) {
                throw DiscoveryError("folder '\(path)' does not exist (connection '\(connection.reference)')", exitStatus: .noInput)
            }
        default:
            break
        }
    }
}
