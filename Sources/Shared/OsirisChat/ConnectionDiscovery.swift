import OML
import OsirisCore
import OsirisDiscovery

/// Discovery from chat (DESIGN.md §9): with no snapshot given, the connection `--connection` names is
/// discovered at the DISCOVERY state by OsirisDiscovery, exactly as `osiris-discover` does it (the same
/// resolution, cache and exit statuses).
public struct ConnectionDiscovery: Sendable {
    /// What to discover: the connection as typed (`@sqlite.demo`, a family, a URL, `sqlite:PATH`,
    /// `file:DIR`) with osiris-discover's defaults (depth `columns`, the cache of the environment).
    public var options: DiscoveryOptions
    /// The connections file found, if any.
    public var connections: ConnectionsFile?
    /// Where the connections file was looked for, for messages when an alias is not found.
    public var searched: String
    /// The environment `${VAR}` references are read from.
    public var environment: [String: String]
    /// The masker every secret read while resolving is registered with (the session file's too).
    public var masker: SecretMasker

    /// Discovery of `connection` as `osiris-discover CONNECTION` would run it in `environment`.
    public init(
        connection: String, connections: ConnectionsFile?, searched: String, environment: [String: String], masker: SecretMasker
    ) {
        options = DiscoveryOptions(connection: connection, cacheDirectory: Discovery.cacheDirectory(environment: environment))
        self.connections = connections
        self.searched = searched
        self.environment = environment
        self.masker = masker
    }

    /// The connection's snapshot, and whether it came from the cache.
    public func run() throws(ChatError) -> (snapshot: Snapshot, fromCache: Bool) {
        let outcome: DiscoveryOutcome
        do {
            outcome = try Discovery.run(options, connections: connections, searched: searched, environment: environment, masker: masker)
        } catch {
            throw .discovery(error)
        }
        do {
            return (try Snapshot.decode(outcome.bytes, path: options.connection), outcome.fromCache)
        } catch {
            // Discovery writes what the decoder reads: a snapshot that does not decode is a bug.
            throw .discovery(DiscoveryError("the discovered snapshot does not decode: \(error.description)", exitStatus: .software))
        }
    }
}
