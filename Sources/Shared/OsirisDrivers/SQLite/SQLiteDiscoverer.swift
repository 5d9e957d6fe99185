import CSQLite3
import OML
import OsirisCore

/// Discovery for SQLite: tables and views of the `main` schema, their columns with declared and
/// logical types, nullability, primary keys and foreign keys, read from SQLite's catalog with the
/// database opened read-only. Row estimates come from `sqlite_stat1` when `ANALYZE` has filled it.
struct SQLiteDiscoverer: Discoverer {
    func discover(_ request: DiscoveryRequest) throws(StepError) -> DiscoveryResult {
        guard let path = request.connection.fields["path"]?.stringValue, !path.isEmpty else {
            throw StepError(.configuration, "connection '\(request.connection.reference)' names no SQLite database: give it a 'path'")
        }
        guard DirectoryWalker.exists(path) else { throw StepError(.run, "SQLite database '\(path)' does not exist") }
        let database = try SQLiteDatabase(path: path, readOnly: true)
        let key = request.cancellation.onCancel { database.interrupt() }
        defer { request.cancellation.remove(key) }
        try database.execute("BEGIN")
        defer { try? database.execute("COMMIT") }

        let estimates = try rowEstimates(database)
        var tables: [SnapshotTable] = []
        let catalog = try database.prepare("""
            SELECT name, type FROM sqlite_schema
            WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name
            """)
        while try catalog.step() {
            try request.cancellation.check()
            let name = catalog.text(0)
            guard request.selects(schema: "main", name: name) else { continue }
            let kind = catalog.text(1)
            var table = SnapshotTable(
                schema: "main", name: name, kind: kind, rowEstimate: estimates[name], columns: [], primaryKey: [], foreignKeys: [])
            if request.depth != .tables {
                try describe(&table, in: database)
            }
            if request.depth == .profile {
                let query = ProfileQuery(quote: { "\"" + $0.replacingAll("\"", with: "\"\"") + "\"" }, text: { "CAST(\($0) AS TEXT)" })
                try query.profile(&table, source: query.qualified(table, schema: false), request: request) { sql throws(StepError) in
                    try Self.rows(database, sql)
                }
            }
            tables.append(table)
        }
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let base = file.split(separator: ".").dropLast().joined(separator: ".")
        return DiscoveryResult(
            database: base.isEmpty ? file : base, serverVersion: String(cString: sqlite3_libversion()), tables: tables)
    }

    /// Every row of a query as text (NULL as nil).
    static func rows(_ database: SQLiteDatabase, _ sql: String) throws(StepError) -> [[String?]] {
        let statement = try database.prepare(sql)
        var rows: [[String?]] = []
        while try statement.step() {
            rows.append((0..<statement.columnCount).map { statement.isNull($0) ? nil : statement.text($0) })
        }
        return rows
    }

    /// The SQL of every schema object: it changes with any table, column, key or default.
    func structureHash(_ request: DiscoveryRequest) throws(StepError) -> String? {
        guard let path = request.connection.fields["path"]?.stringValue, DirectoryWalker.exists(path) else { return nil }
        let database = try SQLiteDatabase(path: path, readOnly: true)
        let schema = try database.prepare("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
        var text = ""
        while try schema.step() {
            text += schema.text(0) + "\u{0}" + schema.text(1) + "\u{0}" + schema.text(2) + "\u{0}" + schema.text(3) + "\n"
        }
        return Fingerprint.sha256(Array(text.utf8))
    }

    /// Columns, primary key and foreign keys of a table or view.
    private func describe(_ table: inout SnapshotTable, in database: SQLiteDatabase) throws(StepError) {
        let literal = "'" + table.name.replacingAll("'", with: "''") + "'"
        let info = try database.prepare("SELECT name, type, \"notnull\", pk, dflt_value FROM pragma_table_info(\(literal)) ORDER BY cid")
        var keyed: [(position: Int, name: String)] = []
        while try info.step() {
            let name = info.text(0)
            let declared = info.text(1)
            let position = info.int(3)
            let logical = SQLiteTypes.logicalType(declared: declared) ?? (declared.isEmpty ? .bytes : .decimal)
            table.columns.append(SnapshotColumn(
                name: name, type: declared, logicalType: logical.rawValue, nullable: info.int(2) == 0,
                defaultValue: info.isNull(4) ? nil : info.text(4)))
            if position > 0 { keyed.append((position, name)) }
        }
        table.primaryKey = keyed.sorted { $0.position < $1.position }.map(\.name)
        // A table's one-column INTEGER PRIMARY KEY is its rowid: never NULL even without NOT NULL.
        if table.kind == "table", keyed.count == 1,
           let index = table.columns.firstIndex(where: { $0.name == keyed[0].name && $0.type.uppercased() == "INTEGER" }) {
            table.columns[index].nullable = false
        }
        guard table.kind == "table" else { return }

        let keys = try database.prepare("""
            SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(\(literal)) ORDER BY id, seq
            """)
        var grouped: [(id: Int, table: String, from: [String], to: [String?])] = []
        while try keys.step() {
            let id = keys.int(0)
            if grouped.last?.id != id { grouped.append((id, keys.text(1), [], [])) }
            grouped[grouped.count - 1].from.append(keys.text(2))
            grouped[grouped.count - 1].to.append(keys.isNull(3) ? nil : keys.text(3))
        }
        for key in grouped {
            var referenced = key.to.compactMap { $0 }
            // `REFERENCES parent` without columns means the parent's primary key.
            if referenced.count != key.to.count { referenced = try primaryKey(of: key.table, in: database) }
            table.foreignKeys.append(SnapshotForeignKey(
                columns: key.from, referencedSchema: "main", referencedTable: key.table, referencedColumns: referenced))
        }
    }

    private func primaryKey(of table: String, in database: SQLiteDatabase) throws(StepError) -> [String] {
        let literal = "'" + table.replacingAll("'", with: "''") + "'"
        let info = try database.prepare("SELECT name FROM pragma_table_info(\(literal)) WHERE pk > 0 ORDER BY pk")
        var names: [String] = []
        while try info.step() { names.append(info.text(0)) }
        return names
    }

    /// Row counts `ANALYZE` recorded, by table; empty when it never ran.
    private func rowEstimates(_ database: SQLiteDatabase) throws(StepError) -> [String: Int] {
        let exists = try database.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'")
        guard try exists.step() else { return [:] }
        let stats = try database.prepare("SELECT tbl, stat FROM sqlite_stat1")
        var estimates: [String: Int] = [:]
        while try stats.step() {
            if let rows = stats.text(1).split(separator: " ").first.flatMap({ Int($0) }) {
                estimates[stats.text(0)] = max(estimates[stats.text(0)] ?? 0, rows)
            }
        }
        return estimates
    }
}
