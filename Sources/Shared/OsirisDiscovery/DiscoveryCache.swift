import OML
import OsirisCore
import OsirisDrivers

/// Snapshots cached under `$XDG_CACHE_HOME/osiris/discovery/` (DESIGN.md §8), one file per key: the
/// connection's identity (family, host, port, database, user, path — never a password), its name,
/// the depth and the options. The file's first line holds the catalog's structure hash when the
/// snapshot was taken; the snapshot is reused only while the hash is the same.
///
/// ```
/// osiris-discovery-cache 1 9f86d081884c7d659a2feaa0c55ad015
/// {"connection":"@pg.shop",...}
/// ```
struct DiscoveryCache {
    /// The cache folder.
    var directory: String
    /// The cache key: a SHA-256 of the identity, depth and options.
    var key: String

    static let header = "osiris-discovery-cache 1 "

    /// The file that holds the snapshot of this key.
    var path: String { directory + "/" + key + ".snapshot" }

    /// The key of a connection and options: what decides the snapshot, without secrets.
    static func key(connection: ResolvedConnection, options: DiscoveryOptions) -> String {
        var identity: [String: JSONValue] = [
            "name": .string(connection.reference), "family": .string(connection.family), "depth": .string(options.depth.rawValue),
            "tables": .array(options.tables.map(JSONValue.string)), "sample": .int(options.sample),
            "snapshot_version": .int(Snapshot.version),
        ]
        for field in ["host", "hostaddr", "port", "database", "dbname", "user", "schema", "path", "base_dir", "socket"] {
            if let value = connection.fields[field] { identity[field] = value }
        }
        return Fingerprint.sha256Hex(Array(JSONWriter.canonicalString(.object(identity)).utf8))
    }

    /// The cached snapshot's bytes when the cache holds one taken at `structureHash`.
    func read(structureHash: String) -> [UInt8]? {
        guard let bytes = try? InputFile.read(path) else { return nil }
        let expected = Array((Self.header + structureHash + "\n").utf8)
        guard bytes.count > expected.count, bytes.starts(with: expected) else { return nil }
        return Array(bytes[expected.count...])
    }

    /// Stores a snapshot; returns a warning when the cache cannot be written (never a failure).
    func write(_ snapshot: [UInt8], structureHash: String) -> String? {
        do {
            try FileSystem.createDirectories(directory)
            try AtomicFile.write(Array((Self.header + structureHash + "\n").utf8) + snapshot, to: path)
            return nil
        } catch {
            return "cannot cache the snapshot: \(error.description)"
        }
    }
}
