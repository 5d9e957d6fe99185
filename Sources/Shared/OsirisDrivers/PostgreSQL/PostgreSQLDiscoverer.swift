import OML
import OsirisCore

/// Discovery for PostgreSQL and Supabase: tables, views, materialized views and foreign tables of
/// every schema but the system ones, read from `pg_catalog` in bulk — one query each for the tables,
/// the columns, the primary keys and the foreign keys, whatever the number of tables — inside a
/// read-only repeatable-read transaction with a statement timeout. Logical types are the
/// extractor's (`PostgreSQLTypes`), taken from a domain's base type.
struct PostgreSQLDiscoverer: Discoverer {
    /// The schemas never listed: the catalogs and the toast and temporary schemas.
    static let userSchemas = """
        n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' \
        AND n.nspname NOT LIKE 'pg\\_temp\\_%'
        """

    /// The relation kinds listed: tables, partitioned tables, views, materialized views, foreign tables.
    static let relationKinds = "c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition"

    func discover(_ request: DiscoveryRequest) throws(StepError) -> DiscoveryResult {
        try PostgreSQLDiscoverer.withReadOnly(request) { connection throws(StepError) in
            let identity = try Self.rows(connection, request, "SELECT current_database(), current_setting('server_version')")
            var tables = try Self.tables(connection, request)
            if request.depth != .tables { try Self.describe(&tables, connection, request) }
            if request.depth == .profile {
                let query = ProfileQuery(quote: PostgreSQLConnection.quote, text: { "(\($0))::text" })
                for index in tables.indices {
                    let source = query.qualified(tables[index].table, schema: true)
                    try query.profile(&tables[index].table, source: source, request: request) { sql throws(StepError) in
                        try Self.rows(connection, request, sql)
                    }
                }
            }
            let version = identity.first?[1].map { String($0.split(separator: " ").first ?? "") }
            return DiscoveryResult(database: identity.first?[0] ?? nil, serverVersion: version, tables: tables.map(\.table))
        }
    }

    /// Counts and sums of `xmin` of the catalog rows that describe the user's relations: any DDL
    /// (a table, column, type change, default, key or comment) writes new catalog rows with a newer
    /// transaction id, while ANALYZE and VACUUM update row estimates in place and leave them alone.
    /// No formatting and no sort, so it costs a few milliseconds for thousands of columns.
    func structureHash(_ request: DiscoveryRequest) throws(StepError) -> String? {
        try PostgreSQLDiscoverer.withReadOnly(request) { connection throws(StepError) in
            func summary(_ from: String) -> String { "(SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM \(from))" }
            return try Self.rows(connection, request, """
                WITH rel AS (
                  SELECT c.oid, c.xmin FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE \(Self.relationKinds) AND \(Self.userSchemas))
                SELECT concat_ws('/', \(summary("rel")),
                  \(summary("pg_attribute WHERE attrelid IN (SELECT oid FROM rel)")),
                  \(summary("pg_attrdef WHERE adrelid IN (SELECT oid FROM rel)")),
                  \(summary("pg_constraint WHERE conrelid IN (SELECT oid FROM rel)")),
                  \(summary("pg_description WHERE objoid IN (SELECT oid FROM rel)")),
                  \(summary("pg_namespace")), \(summary("pg_type")))
                """).first?.first ?? nil
        }
    }

    /// Opens a connection, runs `body` in a read-only transaction with the statement timeout, and
    /// closes it; an interruption cancels the running query.
    static func withReadOnly<T>(
        _ request: DiscoveryRequest, _ body: (PostgreSQLConnection) throws(StepError) -> T
    ) throws(StepError) -> T {
        let connection = try PostgreSQLConnection(request.connection, masker: request.masker)
        let key = request.cancellation.onCancel { connection.cancel() }
        defer { request.cancellation.remove(key) }
        let begin = """
            BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = \(max(1, request.statementTimeout) * 1000)
            """
        request.observe(begin)
        try connection.execute(begin)
        do {
            let result = try body(connection)
            try? connection.execute("COMMIT")
            return result
        } catch {
            try request.cancellation.check()
            throw error
        }
    }

    /// Runs a catalog query, reporting it to the request's observer.
    static func rows(_ connection: PostgreSQLConnection, _ request: DiscoveryRequest, _ sql: String) throws(StepError) -> [[String?]] {
        request.observe(sql)
        return try connection.rows(sql)
    }

    /// A table found, with its OID to attach columns and keys to.
    struct Found {
        var oid: String
        var table: SnapshotTable
    }

    /// Every selected relation with its kind, row estimate and comment (one query).
    static func tables(_ connection: PostgreSQLConnection, _ request: DiscoveryRequest) throws(StepError) -> [Found] {
        let rows = try Self.rows(connection, request, """
            SELECT c.oid::text, n.nspname, c.relname, c.relkind::text, c.reltuples::bigint::text, ds.description
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
            WHERE \(relationKinds) AND \(userSchemas)
            """)
        var found: [Found] = []
        for row in rows {
            let schema = row[1] ?? "", name = row[2] ?? ""
            guard request.selects(schema: schema, name: name) else { continue }
            let kind: String
            switch row[3] {
            case "v": kind = "view"
            case "m": kind = "materialized_view"
            case "f": kind = "foreign_table"
            case "p": kind = "partitioned_table"
            default: kind = "table"
            }
            // reltuples is -1 until the table is first analyzed or vacuumed: unknown, not empty.
            let estimate = row[4].flatMap { Int($0) }.flatMap { $0 >= 0 && kind != "view" ? $0 : nil }
            found.append(Found(oid: row[0] ?? "", table: SnapshotTable(
                schema: schema, name: name, kind: kind, rowEstimate: estimate, columns: [], primaryKey: [], foreignKeys: [],
                comment: row[5])))
        }
        found.sort { ($0.table.schema, $0.table.name) < ($1.table.schema, $1.table.name) }
        return found
    }

    /// Columns, primary keys and foreign keys of every table found (three queries).
    static func describe(_ tables: inout [Found], _ connection: PostgreSQLConnection, _ request: DiscoveryRequest) throws(StepError) {
        var position: [String: Int] = [:]
        for (index, found) in tables.enumerated() { position[found.oid] = index }

        let columns = try Self.rows(connection, request, """
            SELECT a.attrelid::text, a.attname, format_type(a.atttypid, a.atttypmod),
                   (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END)::int::text, a.attnotnull::text,
                   pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, ds.description
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            LEFT JOIN pg_description ds ON ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum
            WHERE a.attnum > 0 AND NOT a.attisdropped AND \(relationKinds) AND \(userSchemas)
            ORDER BY a.attrelid, a.attnum
            """)
        for row in columns {
            guard let index = row[0].flatMap({ position[$0] }) else { continue }
            let oid = row[3].flatMap { UInt32($0) } ?? 25
            var defaultValue = row[5]
            switch (row[6], row[7]) {
            case ("a", _): defaultValue = "GENERATED ALWAYS AS IDENTITY"
            case ("d", _): defaultValue = "GENERATED BY DEFAULT AS IDENTITY"
            case (_, "s"): defaultValue = defaultValue.map { "GENERATED ALWAYS AS (\($0)) STORED" }
            default: break
            }
            tables[index].table.columns.append(SnapshotColumn(
                name: row[1] ?? "", type: row[2] ?? "", logicalType: PostgreSQLTypes.logicalType(oid: oid).rawValue,
                nullable: row[4] != "true", defaultValue: defaultValue, comment: row[8]))
        }

        let keys = try Self.rows(connection, request, """
            SELECT con.conrelid::text, a.attname
            FROM pg_constraint con CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
            WHERE con.contype = 'p'
            ORDER BY con.conrelid, k.ord
            """)
        for row in keys {
            guard let index = row[0].flatMap({ position[$0] }) else { continue }
            tables[index].table.primaryKey.append(row[1] ?? "")
        }

        let foreign = try Self.rows(connection, request, """
            SELECT con.conrelid::text, con.oid::text, a.attname, rn.nspname, rc.relname, ra.attname
            FROM pg_constraint con
            JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
            CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, fattnum, ord)
            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
            JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.fattnum
            WHERE con.contype = 'f'
            ORDER BY con.conrelid, con.oid, k.ord
            """)
        var current: (table: Int, constraint: String)?
        for row in foreign {
            guard let index = row[0].flatMap({ position[$0] }) else { continue }
            let constraint = row[1] ?? ""
            if current?.table != index || current?.constraint != constraint {
                tables[index].table.foreignKeys.append(SnapshotForeignKey(
                    columns: [], referencedSchema: row[3] ?? "", referencedTable: row[4] ?? "", referencedColumns: []))
                current = (index, constraint)
            }
            let last = tables[index].table.foreignKeys.count - 1
            tables[index].table.foreignKeys[last].columns.append(row[2] ?? "")
            tables[index].table.foreignKeys[last].referencedColumns.append(row[5] ?? "")
        }
        for index in tables.indices { tables[index].table.foreignKeys.sort(by: SnapshotForeignKey.precedes) }
    }
}

extension SnapshotForeignKey {
    /// The order foreign keys are listed in: by their columns, then what they reference.
    static func precedes(_ left: SnapshotForeignKey, _ right: SnapshotForeignKey) -> Bool {
        let a = [left.columns.joined(separator: "\u{0}"), left.referencedSchema, left.referencedTable, left.referencedColumns.joined(separator: "\u{0}")]
        let b = [right.columns.joined(separator: "\u{0}"), right.referencedSchema, right.referencedTable, right.referencedColumns.joined(separator: "\u{0}")]
        return a.lexicographicallyPrecedes(b)
    }
}
