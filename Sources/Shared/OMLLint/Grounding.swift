import OML
import OsirisCore
import OsirisYAML

/// What the grounding rules (OML400, OML401) need about one extractor: the snapshot it reads from.
extension LintContext {
    /// Schemas of the databases' own catalogs, which snapshots do not list.
    static let catalogSchemas: Set<String> = ["information_schema", "pg_catalog", "mysql", "performance_schema", "sys"]

    /// The snapshot, when `step` is a database extractor whose connection (explicit or default) is
    /// the snapshot's. Without a connections file, an extractor with no reference is taken to read
    /// the snapshot's connection when its family is the snapshot's.
    func groundingSnapshot(for step: OMLStep, spec: ComponentSpec) -> Snapshot? {
        guard let snapshot, spec.role == .extractor, let family = spec.family, family != "filesystem" else { return nil }
        let target = snapshot.connection
        func same(_ reference: ConnectionReference) -> Bool {
            ConnectionFamily.canonical(reference.family) == ConnectionFamily.canonical(target.family) && reference.alias == target.alias
        }
        if step.config?["connection"] != nil {
            guard let reference = connectionReference(of: step) else { return nil }
            return same(reference) ? snapshot : nil
        }
        if let connections {
            guard case .found(let entry) = connections.defaultConnection(forFamily: family) else { return nil }
            return same(entry.reference) ? snapshot : nil
        }
        return ConnectionFamily.canonical(family) == ConnectionFamily.canonical(target.family) ? snapshot : nil
    }

    /// The snapshot tables a name may refer to; nil when the name is outside what a snapshot lists
    /// (a catalog schema) and so cannot be judged.
    func snapshotTables(_ snapshot: Snapshot, schema: String?, name: String, quoted: Bool) -> [SnapshotTable]? {
        if let schema, Self.catalogSchemas.contains(schema.lowercased()) { return nil }
        if schema == nil, name.lowercased().hasPrefix("pg_") || name.lowercased() == "dual" { return nil }
        return snapshot.tables(named: name, schema: schema, caseSensitive: quoted)
    }

    /// The table a step's `table` config names, split into schema and name (`public.orders`);
    /// a `schema` config key qualifies a bare name.
    func configuredTable(of step: OMLStep) -> (schema: String?, name: String, node: YAMLNode)? {
        guard let node = step.config?["table"], let text = node.string, !text.containsBytes("${"), !text.isEmpty else { return nil }
        var schema = step.config?["schema"]?.string
        var name = text
        if let dot = text.firstIndex(of: "."), !text.contains("\"") {
            schema = String(text[..<dot])
            name = String(text[text.index(after: dot)...])
        }
        return (schema, name, node)
    }
}
