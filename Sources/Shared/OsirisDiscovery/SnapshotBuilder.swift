import OML
import OsirisCore
import OsirisDrivers

/// Turns what a discoverer found into the snapshot of DESIGN.md §8: tables sorted by schema and name
/// (byte order), the connection's name and family, and the structure fingerprint.
public enum SnapshotBuilder {
    /// The snapshot of `result`, discovered on `connection` at `depth`.
    public static func snapshot(_ result: DiscoveryResult, connection: ResolvedConnection, depth: DiscoveryDepth) -> Snapshot {
        var tables = result.tables.sorted { left, right in
            [left.schema, left.name].lexicographicallyPrecedes([right.schema, right.name]) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        for index in tables.indices { maskSecrets(&tables[index]) }
        return Snapshot(
            connectionName: connection.reference, family: connection.family, database: result.database,
            serverVersion: result.serverVersion, depth: depth.rawValue, fingerprint: fingerprint(of: tables), tables: tables)
    }

    /// The words that make a column's values secret wherever they appear in its name
    /// (`password_hash`, `reset_token_2`), on top of the names `SecretNames` lists.
    static let secretWords = ["password", "passwd", "secret", "token", "api_key", "apikey", "private_key", "credential"]

    /// Whether a column's values look secret, by its name.
    public static func isSecret(column name: String) -> Bool {
        let lowered = name.lowercased()
        return SecretNames.contains(lowered) || secretWords.contains { lowered.contains($0) }
    }

    /// Replaces the sample values, min and max of secret-looking columns with `***`; NULLs stay
    /// NULL so the null pattern is still visible.
    static func maskSecrets(_ table: inout SnapshotTable) {
        let secret = table.columns.map(\.name).filter(isSecret(column:))
        guard !secret.isEmpty else { return }
        for index in table.columns.indices where isSecret(column: table.columns[index].name) {
            if table.columns[index].statistics?.min != nil { table.columns[index].statistics?.min = SecretMasker.replacement }
            if table.columns[index].statistics?.max != nil { table.columns[index].statistics?.max = SecretMasker.replacement }
        }
        guard let rows = table.sampleRows else { return }
        table.sampleRows = rows.map { row in
            var row = row
            for name in secret where row[name] != nil && row[name] != .null { row[name] = .string(SecretMasker.replacement) }
            return row
        }
    }

    /// The fingerprint of the tables' structure: names, kinds, columns and keys, never row
    /// estimates, comments, statistics or samples.
    public static func fingerprint(of tables: [SnapshotTable]) -> String {
        Fingerprint.sha256(canonicalJSONOf: .array(tables.map(\.structure)))
    }
}
