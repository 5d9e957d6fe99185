import OsirisCore

/// A discovery snapshot that does not decode (exit status 65).
public typealias SnapshotError = FileFormatError

/// A column of a discovered table.
public struct SnapshotColumn: Sendable, Equatable {
    /// The column's name as the database reports it.
    public var name: String
    /// The database's type name, such as `numeric(12,2)`.
    public var type: String
    /// The logical type of DESIGN.md §7.1, such as `decimal`.
    public var logicalType: String
    /// Whether the column accepts NULL.
    public var nullable: Bool
    /// The column's default as the database prints it (`nextval('orders_id_seq'::regclass)`), if any.
    public var defaultValue: String?
    /// The column's comment, if any.
    public var comment: String?
    /// Statistics of its values, at depth `profile`.
    public var statistics: SnapshotColumnStatistics?

    /// Creates a column, as a discoverer reports it.
    public init(
        name: String, type: String, logicalType: String, nullable: Bool, defaultValue: String? = nil, comment: String? = nil,
        statistics: SnapshotColumnStatistics? = nil
    ) {
        self.name = name
        self.type = type
        self.logicalType = logicalType
        self.nullable = nullable
        self.defaultValue = defaultValue
        self.comment = comment
        self.statistics = statistics
    }

    /// The column as snapshot JSON: `{"name": "id", "type": "integer", "logical_type": "int64", "nullable": false}`
    /// plus `default`, `comment` and `stats` when present.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name), "type": .string(type), "logical_type": .string(logicalType), "nullable": .bool(nullable),
        ]
        if let defaultValue { members["default"] = .string(defaultValue) }
        if let comment { members["comment"] = .string(comment) }
        if let statistics { members["stats"] = statistics.json }
        return .object(members)
    }
}

/// Statistics of one column's values (depth `profile`), computed over the whole table.
///
/// ```json
/// {"null_fraction": 0.25, "distinct_estimate": 3, "min": "2024-01-01", "max": "2024-03-31"}
/// ```
public struct SnapshotColumnStatistics: Sendable, Equatable {
    /// The fraction of rows where the column is NULL, from 0 to 1 (rounded to 4 decimals).
    public var nullFraction: Double
    /// How many distinct non-NULL values the column holds (exact when the tool counted them).
    public var distinctEstimate: Int
    /// The smallest non-NULL value as text, if any (none for types without an order, and masked for secrets).
    public var min: String?
    /// The largest non-NULL value as text, if any.
    public var max: String?

    /// Creates statistics.
    public init(nullFraction: Double, distinctEstimate: Int, min: String?, max: String?) {
        self.nullFraction = nullFraction
        self.distinctEstimate = distinctEstimate
        self.min = min
        self.max = max
    }

    /// The statistics as snapshot JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["null_fraction": .double(nullFraction), "distinct_estimate": .int(distinctEstimate)]
        if let min { members["min"] = .string(min) }
        if let max { members["max"] = .string(max) }
        return .object(members)
    }
}

/// A foreign key of a discovered table.
public struct SnapshotForeignKey: Sendable, Equatable {
    /// The referencing columns.
    public var columns: [String]
    /// The referenced table's schema.
    public var referencedSchema: String
    /// The referenced table.
    public var referencedTable: String
    /// The referenced columns.
    public var referencedColumns: [String]

    /// Creates a foreign key, as a discoverer reports it.
    public init(columns: [String], referencedSchema: String, referencedTable: String, referencedColumns: [String]) {
        self.columns = columns
        self.referencedSchema = referencedSchema
        self.referencedTable = referencedTable
        self.referencedColumns = referencedColumns
    }

    /// The key as snapshot JSON: `{"columns": [...], "references": {"schema": ..., "table": ..., "columns": [...]}}`.
    public var json: JSONValue {
        .object([
            "columns": .array(columns.map(JSONValue.string)),
            "references": .object([
                "schema": .string(referencedSchema), "table": .string(referencedTable),
                "columns": .array(referencedColumns.map(JSONValue.string)),
            ]),
        ])
    }
}

/// A discovered table or view.
public struct SnapshotTable: Sendable, Equatable {
    /// The schema (PostgreSQL) or database (MySQL) the table is in.
    public var schema: String
    /// The table's name.
    public var name: String
    /// `table`, `view`, ...
    public var kind: String
    /// The catalog's row estimate, when known.
    public var rowEstimate: Int?
    /// The columns in ordinal order.
    public var columns: [SnapshotColumn]
    /// The primary key's columns.
    public var primaryKey: [String]
    /// The foreign keys.
    public var foreignKeys: [SnapshotForeignKey]
    /// The table's comment, if any.
    public var comment: String?
    /// Up to `--sample N` rows at depth `profile`, each an object by column name (nil: none taken).
    public var sampleRows: [[String: JSONValue]]?

    /// Creates a table, as a discoverer reports it.
    public init(
        schema: String, name: String, kind: String, rowEstimate: Int?, columns: [SnapshotColumn], primaryKey: [String],
        foreignKeys: [SnapshotForeignKey], comment: String? = nil, sampleRows: [[String: JSONValue]]? = nil
    ) {
        self.schema = schema
        self.name = name
        self.kind = kind
        self.rowEstimate = rowEstimate
        self.columns = columns
        self.primaryKey = primaryKey
        self.foreignKeys = foreignKeys
        self.comment = comment
        self.sampleRows = sampleRows
    }

    /// The table as snapshot JSON; `withColumns` false (depth `tables`) leaves out columns and keys.
    public func json(withColumns: Bool) -> JSONValue {
        var members: [String: JSONValue] = ["schema": .string(schema), "name": .string(name), "kind": .string(kind)]
        if let rowEstimate { members["row_estimate"] = .int(rowEstimate) }
        if let comment { members["comment"] = .string(comment) }
        if withColumns {
            members["columns"] = .array(columns.map(\.json))
            members["primary_key"] = .array(primaryKey.map(JSONValue.string))
            members["foreign_keys"] = .array(foreignKeys.map(\.json))
        }
        if let sampleRows { members["sample_rows"] = .array(sampleRows.map(JSONValue.object)) }
        return .object(members)
    }

    /// What the snapshot's fingerprint covers of this table: names, kinds, columns (types, nullability,
    /// defaults) and keys; not row estimates, comments, statistics or samples.
    public var structure: JSONValue {
        .object([
            "schema": .string(schema), "name": .string(name), "kind": .string(kind),
            "columns": .array(columns.map { column in
                var members: [String: JSONValue] = [
                    "name": .string(column.name), "type": .string(column.type), "logical_type": .string(column.logicalType),
                    "nullable": .bool(column.nullable),
                ]
                if let value = column.defaultValue { members["default"] = .string(value) }
                return .object(members)
            }),
            "primary_key": .array(primaryKey.map(JSONValue.string)),
            "foreign_keys": .array(foreignKeys.map(\.json)),
        ])
    }

    /// The column named `name`: an exact match first, then one that differs only in case.
    public func column(named name: String, caseSensitive: Bool) -> SnapshotColumn? {
        if let exact = columns.first(where: { $0.name == name }) { return exact }
        guard !caseSensitive else { return nil }
        let lowered = name.lowercased()
        return columns.first { $0.name.lowercased() == lowered }
    }
}

/// A discovery snapshot (DESIGN.md §8): the schema of one connection's database, as written by
/// `osiris-discover` and read by `oml-lint --snapshot` and `osiris-chat` (osiris-snapshot(5)).
///
/// ```json
/// {"connection":"@pg.shop","database":"shop","depth":"columns","family":"postgres","fingerprint":"sha256:...","server_version":"15.10","snapshot_version":1,"tables":[...]}
/// ```
public struct Snapshot: Sendable {
    /// The snapshot format version this reader understands.
    public static let version = 1

    /// The connection the snapshot describes, such as `@pg.shop`; a snapshot of a URL
    /// (`postgres://host/db`) has its family and an empty alias, which no reference names.
    public var connection: ConnectionReference
    /// The connection as the snapshot names it: `@pg.shop`, or a URL without its password.
    public var connectionName: String
    /// The database family, such as `postgres`.
    public var family: String
    /// The database name.
    public var database: String?
    /// The server's (or engine's) version.
    public var serverVersion: String?
    /// How deep discovery went: tables, columns or profile.
    public var depth: String
    /// The structure fingerprint.
    public var fingerprint: String?
    /// The tables, sorted by schema and name.
    public var tables: [SnapshotTable]

    /// Creates a snapshot; `connectionName` is the reference or URL as written.
    public init(
        connectionName: String, family: String, database: String?, serverVersion: String?, depth: String, fingerprint: String?,
        tables: [SnapshotTable]
    ) {
        self.connectionName = connectionName
        connection = ConnectionReference(parsing: connectionName) ?? ConnectionReference(family: family, alias: "")
        self.family = family
        self.database = database
        self.serverVersion = serverVersion
        self.depth = depth
        self.fingerprint = fingerprint
        self.tables = tables
    }

    /// The snapshot as JSON; written canonically (`JSONWriter`) it is the file `osiris-discover` prints.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "snapshot_version": .int(Self.version), "connection": .string(connectionName), "family": .string(family),
            "depth": .string(depth), "tables": .array(tables.map { $0.json(withColumns: depth != "tables") }),
        ]
        if let database { members["database"] = .string(database) }
        if let serverVersion { members["server_version"] = .string(serverVersion) }
        if let fingerprint { members["fingerprint"] = .string(fingerprint) }
        return .object(members)
    }

    /// Tables named `name` (in `schema` when given): exact matches first, else case-insensitive ones
    /// when the name was not quoted (unquoted SQL names fold case).
    public func tables(named name: String, schema: String?, caseSensitive: Bool) -> [SnapshotTable] {
        let exact = tables.filter { $0.name == name && (schema == nil || $0.schema == schema) }
        if !exact.isEmpty || caseSensitive { return exact }
        let loweredName = name.lowercased()
        let loweredSchema = schema?.lowercased()
        return tables.filter { $0.name.lowercased() == loweredName && (loweredSchema == nil || $0.schema.lowercased() == loweredSchema) }
    }

    /// Reads a snapshot file.
    public static func load(path: String) throws -> Snapshot {
        let bytes = try InputFile.read(path)
        return try decode(bytes, path: path)
    }

    /// Decodes snapshot JSON; fields added after version 1 was first written (defaults, comments,
    /// statistics, samples, the server version) are optional, so older snapshots still read.
    public static func decode(_ bytes: [UInt8], path: String) throws(SnapshotError) -> Snapshot {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw SnapshotError(path: path, message: error.message, range: SourceRange(start: error.position), exitStatus: .dataError)
        }
        func fail(_ message: String) -> SnapshotError { SnapshotError(path: path, message: message, exitStatus: .dataError) }
        guard json.objectValue != nil else { throw fail("a snapshot is a JSON object") }
        guard let version = json["snapshot_version"]?.intValue else { throw fail("missing 'snapshot_version'") }
        guard version == Self.version else {
            throw fail("unsupported snapshot_version \(version); this tool reads version \(Self.version)")
        }
        guard let connectionText = json["connection"]?.stringValue else { throw fail("missing 'connection'") }
        let family = json["family"]?.stringValue
        if ConnectionReference(parsing: connectionText) == nil && (family == nil || !connectionText.contains(":")) {
            throw fail("'connection' must be '@family.alias', not '\(connectionText)'")
        }
        guard let tablesJSON = json["tables"]?.arrayValue else { throw fail("missing 'tables' list") }
        var tables: [SnapshotTable] = []
        for (index, table) in tablesJSON.enumerated() {
            guard let name = table["name"]?.stringValue else { throw fail("tables[\(index)] has no 'name'") }
            var columns: [SnapshotColumn] = []
            for (columnIndex, column) in (table["columns"]?.arrayValue ?? []).enumerated() {
                guard let columnName = column["name"]?.stringValue else {
                    throw fail("tables[\(index)].columns[\(columnIndex)] has no 'name'")
                }
                let statistics = column["stats"].flatMap { stats in
                    stats.objectValue == nil ? nil : SnapshotColumnStatistics(
                        nullFraction: stats["null_fraction"]?.doubleValue ?? 0, distinctEstimate: stats["distinct_estimate"]?.intValue ?? 0,
                        min: stats["min"]?.stringValue, max: stats["max"]?.stringValue)
                }
                columns.append(SnapshotColumn(
                    name: columnName, type: column["type"]?.stringValue ?? "",
                    logicalType: column["logical_type"]?.stringValue ?? "",
                    nullable: column["nullable"]?.boolValue ?? true, defaultValue: column["default"]?.stringValue,
                    comment: column["comment"]?.stringValue, statistics: statistics))
            }
            let foreignKeys = (table["foreign_keys"]?.arrayValue ?? []).map { key in
                SnapshotForeignKey(
                    columns: key["columns"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    referencedSchema: key["references"]?["schema"]?.stringValue ?? "",
                    referencedTable: key["references"]?["table"]?.stringValue ?? "",
                    referencedColumns: key["references"]?["columns"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            }
            tables.append(SnapshotTable(
                schema: table["schema"]?.stringValue ?? "", name: name, kind: table["kind"]?.stringValue ?? "table",
                rowEstimate: table["row_estimate"]?.intValue, columns: columns,
                primaryKey: table["primary_key"]?.arrayValue?.compactMap(\.stringValue) ?? [], foreignKeys: foreignKeys,
                comment: table["comment"]?.stringValue,
                sampleRows: table["sample_rows"]?.arrayValue?.compactMap(\.objectValue)))
        }
        let reference = ConnectionReference(parsing: connectionText)
        return Snapshot(
            connectionName: connectionText, family: family ?? reference?.family ?? "",
            database: json["database"]?.stringValue, serverVersion: json["server_version"]?.stringValue,
            depth: json["depth"]?.stringValue ?? "columns", fingerprint: json["fingerprint"]?.stringValue, tables: tables)
    }
}
