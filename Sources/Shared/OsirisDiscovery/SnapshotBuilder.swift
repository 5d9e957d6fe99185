import OML
import OsirisCore
import OsirisDrivers

/// Turns what a discoverer found into the snapshot of DESIGN.md §8: tables sorted by schema and name
/// (byte order), the connection's name and family, and the structure fingerprint.
public enum SnapshotBuilder {
    /// The snapshot of `result`, discovered on `connection` at `depth`.
    public static func snapshot(_ result: DiscoveryResult, connection: ResolvedConnection, depth: DiscoveryDepth) -> Snapshot {
        let tables = result.tables.sorted { left, right in
            [left.schema, left.name].lexicographicallyPrecedes([right.schema, right.name]) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        return Snapshot(
            connectionName: connection.reference, family: connection.family, database: result.database,
            serverVersion: result.serverVersion, depth: depth.rawValue, fingerprint: fingerprint(of: tables), tables: tables)
    }

    /// The fingerprint of the tables' structure: names, kinds, columns and keys, never row
    /// estimates, comments, statistics or samples.
    public static func fingerprint(of tables: [SnapshotTable]) -> String {
        Fingerprint.sha256(canonicalJSONOf: .array(tables.map(\.structure)))
    }
}
