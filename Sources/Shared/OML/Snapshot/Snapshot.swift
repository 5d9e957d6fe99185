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

    /// Creates a column, as a discoverer reports it.
    public init(name: String, type: String, logicalType: String, nullable: Bool) {
        self.name = name
        self.type = type
        self.logicalType = logicalType
        self.nullable = nullable
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

    /// Creates a table, as a discoverer reports it.
    public init(
        schema: String, name: String, kind: String, rowEstimate: Int?, columns: [SnapshotColumn], primaryKey: [String],
        foreignKeys: [SnapshotForeignKey]
    ) {
        self.schema = schema
        self.name = name
        self.kind = kind
        self.rowEstimate = rowEstimate
        self.columns = columns
        self.primaryKey = primaryKey
        self.foreignKeys = foreignKeys
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
/// `osiris-discover` and read by `oml-lint --snapshot` and `osiris-chat`.
///
/// ```json
/// {"snapshot_version": 1, "connection": "@pg.shop", "family": "postgres", "database": "shop", "depth": "columns", "tables": [...]}
/// ```
public struct Snapshot: Sendable {
    /// The snapshot format version this reader understands.
    public static let version = 1

    /// The connection the snapshot describes, such as `@pg.shop`.
    public var connection: ConnectionReference
    /// The database family, such as `postgres`.
    public var family: String
    /// The database name.
    public var database: String?
    /// How deep discovery went: tables, columns or profile.
    public var depth: String
    /// The structure fingerprint.
    public var fingerprint: String?
    /// The tables, sorted by schema and name.
    public var tables: [SnapshotTable]

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

    /// Decodes snapshot JSON.
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
        guard let connection = ConnectionReference(parsing: connectionText) else {
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
                columns.append(SnapshotColumn(
                    name: columnName, type: column["type"]?.stringValue ?? "",
                    logicalType: column["logical_type"]?.stringValue ?? "",
                    nullable: column["nullable"]?.boolValue ?? true))
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
                primaryKey: table["primary_key"]?.arrayValue?.compactMap(\.stringValue) ?? [], foreignKeys: foreignKeys))
        }
        return Snapshot(
            connection: connection, family: json["family"]?.stringValue ?? connection.family,
            database: json["database"]?.stringValue, depth: json["depth"]?.stringValue ?? "columns",
            fingerprint: json["fingerprint"]?.stringValue, tables: tables)
    }
}
