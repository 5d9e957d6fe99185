import OML
import OsirisCore

/// Discovery for MariaDB and MySQL: the tables and views of the connection's database (of every
/// database but the system ones when the connection names none), read from `information_schema` in
/// bulk — one query each for the tables, the columns and the keys (primary and foreign together),
/// plus one for MariaDB's JSON columns — in a read-only transaction with a statement time limit.
struct MySQLDiscoverer: Discoverer {
    /// The databases never listed.
    static let systemSchemas = "('information_schema', 'mysql', 'performance_schema', 'sys')"

    func discover(_ request: DiscoveryRequest) throws(StepError) -> DiscoveryResult {
        try Self.withReadOnly(request) { connection throws(StepError) in
            let identity = try Self.rows(connection, request, "SELECT DATABASE(), VERSION()")
            let database = identity.first?[0] ?? nil
            let version = identity.first?[1] ?? nil
            let scope = Self.scope(database, column: "TABLE_SCHEMA")
            var tables = try Self.tables(connection, request, scope: scope)
            if request.depth != .tables {
                let mariadb = version?.lowercased().contains("mariadb") ?? false
                try Self.describe(&tables, connection, request, scope: scope, mariadb: mariadb)
            }
            if request.depth == .profile {
                let query = ProfileQuery(quote: { "`" + $0.replacingAll("`", with: "``") + "`" }, text: { "CAST(\($0) AS CHAR)" })
                for index in tables.indices {
                    let source = query.qualified(tables[index].table, schema: true)
                    try query.profile(&tables[index].table, source: source, request: request) { sql throws(StepError) in
                        try Self.rows(connection, request, sql)
                    }
                }
            }
            let shortVersion = version.map { String($0.split(separator: "-").first ?? "") }
            return DiscoveryResult(database: database, serverVersion: shortVersion, tables: tables.map(\.table))
        }
    }

    func structureHash(_ request: DiscoveryRequest) throws(StepError) -> String? {
        try Self.withReadOnly(request) { connection throws(StepError) in
            // Sums of CRC32s: order-free and without GROUP_CONCAT's length limit.
            let rows = try Self.rows(connection, request, """
                SELECT CONCAT_WS('/',
                  (SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CRC32(CONCAT_WS('|', TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_COMMENT))), 0))
                   FROM information_schema.TABLES WHERE \(Self.scope(nil, column: "TABLE_SCHEMA", current: true))),
                  (SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CRC32(CONCAT_WS('|', TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION,
                          COLUMN_TYPE, IS_NULLABLE, COALESCE(COLUMN_DEFAULT, '~'), EXTRA, COLUMN_COMMENT))), 0))
                   FROM information_schema.COLUMNS WHERE \(Self.scope(nil, column: "TABLE_SCHEMA", current: true))),
                  (SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CRC32(CONCAT_WS('|', TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME,
                          ORDINAL_POSITION, COALESCE(REFERENCED_TABLE_SCHEMA, '~'), COALESCE(REFERENCED_TABLE_NAME, '~'),
                          COALESCE(REFERENCED_COLUMN_NAME, '~')))), 0))
                   FROM information_schema.KEY_COLUMN_USAGE WHERE \(Self.scope(nil, column: "TABLE_SCHEMA", current: true))))
                """)
            return rows.first?.first ?? nil
        }
    }

    /// The condition selecting the databases discovered: `database`, else every non-system one.
    /// `current` uses the session's database (`DATABASE()`), for queries that do not know it yet.
    static func scope(_ database: String?, column: String, current: Bool = false) -> String {
        if current { return "(\(column) = DATABASE() OR (DATABASE() IS NULL AND \(column) NOT IN \(systemSchemas)))" }
        guard let database else { return "\(column) NOT IN \(systemSchemas)" }
        return "\(column) = '" + database.replacingAll("\\", with: "\\\\").replacingAll("'", with: "''") + "'"
    }

    /// Opens a connection, runs `body` in a read-only transaction under the statement time limit, and
    /// closes it; an interruption kills the running query.
    static func withReadOnly<T>(_ request: DiscoveryRequest, _ body: (MySQLConnection) throws(StepError) -> T) throws(StepError) -> T {
        let connection = try MySQLConnection(request.connection, masker: request.masker)
        let resolved = request.connection, masker = request.masker, threadID = connection.threadID
        let key = request.cancellation.onCancel { MySQLExtractor.kill(threadID, on: resolved, masker: masker) }
        defer { request.cancellation.remove(key) }
        let seconds = max(1, request.statementTimeout)
        // MariaDB limits statements in seconds, MySQL in milliseconds; each ignores the other's name.
        for setting in ["SET SESSION max_statement_time = \(seconds)", "SET SESSION max_execution_time = \(seconds * 1000)"] {
            try? connection.execute(setting)
        }
        request.observe("START TRANSACTION READ ONLY")
        try connection.execute("START TRANSACTION READ ONLY")
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
    static func rows(_ connection: MySQLConnection, _ request: DiscoveryRequest, _ sql: String) throws(StepError) -> [[String?]] {
        request.observe(sql)
        return try connection.rows(sql)
    }

    /// A table found, with its key to attach columns and keys to.
    struct Found {
        var key: String
        var table: SnapshotTable
    }

    static func key(_ schema: String?, _ name: String?) -> String { (schema ?? "") + "\u{0}" + (name ?? "") }

    /// Every selected table and view with its row estimate and comment (one query).
    static func tables(_ connection: MySQLConnection, _ request: DiscoveryRequest, scope: String) throws(StepError) -> [Found] {
        let rows = try Self.rows(connection, request, """
            SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_ROWS, TABLE_COMMENT
            FROM information_schema.TABLES WHERE \(scope) AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')
            """)
        var found: [Found] = []
        for row in rows {
            let schema = row[0] ?? "", name = row[1] ?? ""
            guard request.selects(schema: schema, name: name) else { continue }
            let kind = row[2] == "VIEW" ? "view" : "table"
            // A view's comment is always 'VIEW'.
            let comment = row[4].flatMap { $0.isEmpty || kind == "view" ? nil : $0 }
            found.append(Found(key: key(schema, name), table: SnapshotTable(
                schema: schema, name: name, kind: kind, rowEstimate: kind == "view" ? nil : row[3].flatMap { Int($0) }, columns: [],
                primaryKey: [], foreignKeys: [], comment: comment)))
        }
        return found
    }

    /// Columns, primary keys and foreign keys of every table found.
    static func describe(
        _ tables: inout [Found], _ connection: MySQLConnection, _ request: DiscoveryRequest, scope: String, mariadb: Bool
    ) throws(StepError) {
        var position: [String: Int] = [:]
        for (index, found) in tables.enumerated() { position[found.key] = index }

        // MariaDB's JSON is a LONGTEXT with a json_valid check named after the column.
        var json: Set<String> = []
        if mariadb {
            let checks = try Self.rows(connection, request, """
                SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS
                WHERE \(scope.replacingAll("TABLE_SCHEMA", with: "CONSTRAINT_SCHEMA"))
                  AND CHECK_CLAUSE = CONCAT('json_valid(`', CONSTRAINT_NAME, '`)')
                """)
            for row in checks { json.insert(key(row[0], row[1]) + "\u{0}" + (row[2] ?? "")) }
        }

        let columns = try Self.rows(connection, request, """
            SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLUMN_COMMENT
            FROM information_schema.COLUMNS WHERE \(scope)
            ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION
            """)
        for row in columns {
            let tableKey = key(row[0], row[1])
            guard let index = position[tableKey] else { continue }
            let name = row[2] ?? "", columnType = row[3] ?? "", extra = (row[7] ?? "").lowercased()
            let isJSON = json.contains(tableKey + "\u{0}" + name)
            let logical = isJSON ? "json" : MySQLTypes.logicalType(dataType: row[4] ?? "", columnType: columnType)
            var defaultValue = row[6]
            // MariaDB writes 'NULL' for a nullable column without a default.
            if defaultValue == "NULL" && row[5] == "YES" { defaultValue = nil }
            if extra.contains("auto_increment") { defaultValue = "AUTO_INCREMENT" }
            if extra.contains("generated") { defaultValue = "GENERATED" }
            let comment = row[8].flatMap { $0.isEmpty ? nil : $0 }
            tables[index].table.columns.append(SnapshotColumn(
                name: name, type: columnType, logicalType: logical, nullable: row[5] == "YES", defaultValue: defaultValue,
                comment: comment))
        }

        let keys = try Self.rows(connection, request, """
            SELECT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME,
                   REFERENCED_COLUMN_NAME
            FROM information_schema.KEY_COLUMN_USAGE
            WHERE \(scope) AND (CONSTRAINT_NAME = 'PRIMARY' OR REFERENCED_TABLE_NAME IS NOT NULL)
            ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
            """)
        var current: (table: Int, constraint: String)?
        for row in keys {
            guard let index = position[key(row[0], row[1])] else { continue }
            let constraint = row[2] ?? ""
            if constraint == "PRIMARY" && row[5] == nil {
                tables[index].table.primaryKey.append(row[3] ?? "")
                continue
            }
            if current?.table != index || current?.constraint != constraint {
                tables[index].table.foreignKeys.append(SnapshotForeignKey(
                    columns: [], referencedSchema: row[4] ?? "", referencedTable: row[5] ?? "", referencedColumns: []))
                current = (index, constraint)
            }
            let last = tables[index].table.foreignKeys.count - 1
            tables[index].table.foreignKeys[last].columns.append(row[3] ?? "")
            tables[index].table.foreignKeys[last].referencedColumns.append(row[6] ?? "")
        }
        for index in tables.indices { tables[index].table.foreignKeys.sort(by: SnapshotForeignKey.precedes) }
    }
}

extension MySQLTypes {
    /// The logical type of a catalog column (`information_schema.COLUMNS`): the same mapping as
    /// `field(_:)` gives result columns, read from the type's name instead of the wire type.
    static func logicalType(dataType: String, columnType: String) -> String {
        let unsigned = columnType.lowercased().contains("unsigned")
        switch dataType.lowercased() {
        case "tinyint", "smallint", "mediumint", "int", "integer", "year": return "int64"
        case "bigint": return unsigned ? "decimal" : "int64"
        case "decimal", "numeric", "dec", "fixed": return "decimal"
        case "float", "double", "real", "double precision": return "float64"
        case "date": return "date"
        case "time": return "time"
        case "datetime": return "timestamp"
        case "timestamp": return "timestamptz"
        case "json": return "json"
        case "uuid": return "uuid"
        case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit", "geometry", "point", "linestring",
             "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
            return "bytes"
        default: return "text"
        }
    }
}
