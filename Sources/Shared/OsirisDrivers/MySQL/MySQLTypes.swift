import CMariaDB
import Glibc
import OsirisData

/// How MariaDB/MySQL result columns map to logical types (documented in osiris-components(7)).
///
/// | MariaDB column | logical | values |
/// |---|---|---|
/// | TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT (signed), YEAR, unsigned but BIGINT | int64 | |
/// | BIGINT UNSIGNED | decimal(20,0) | exact digits (18446744073709551615 does not fit int64) |
/// | DECIMAL(p,s) | decimal(p,s) | the server's exact text, such as `12.50` |
/// | FLOAT, DOUBLE | float64 | |
/// | DATE | date | `2024-05-01` |
/// | TIME | time | `13:45:00(.ffffff)`; MariaDB TIME is a duration, values outside a day keep the server's text |
/// | DATETIME | timestamp | `2024-05-01 13:45:00(.ffffff)` |
/// | TIMESTAMP | timestamptz | read with `time_zone = '+00:00'`, given as `2024-05-01T13:45:00+00:00` |
/// | JSON (a LONGTEXT the server marks `json`) | json | |
/// | UUID (MariaDB 10.7+) | uuid | |
/// | BINARY, VARBINARY, BLOB types (charset 63), BIT, GEOMETRY | bytes | raw bytes |
/// | CHAR, VARCHAR, TEXT types, ENUM, SET, anything else | text | |
///
/// TINYINT(1) (`BOOLEAN`) stays int64: it holds -128..127 and nothing in the result tells a flag
/// column from a small number. Zero dates (`0000-00-00`) pass through as the server's text.
/// Nullability comes from the field's NOT NULL flag.
enum MySQLTypes {
    /// The binary character set: a string or blob column with it holds bytes.
    static let binaryCharset: UInt32 = 63

    /// The schema of a result's fields, duplicate names numbered as SQLite's (`id`, `id_2`).
    static func schema(_ fields: UnsafeMutableBufferPointer<MYSQL_FIELD>) -> Schema {
        var seen: [String: Int] = [:]
        return Schema(fields.map { field in
            var name = String(cString: field.name)
            if let count = seen[name] {
                seen[name] = count + 1
                name = "\(name)_\(count + 1)"
            } else {
                seen[name] = 1
            }
            var mapped = self.field(field)
            mapped.name = name
            return mapped
        })
    }

    /// The logical field of one result field.
    static func field(_ field: MYSQL_FIELD) -> Field {
        let unsigned = field.flags & UInt32(UNSIGNED_FLAG) != 0
        let nullable = field.flags & UInt32(NOT_NULL_FLAG) == 0
        let binary = field.charsetnr == binaryCharset
        func make(_ type: LogicalType, precision: Int? = nil, scale: Int? = nil) -> Field {
            Field(name: "", type: type, nullable: nullable, precision: precision, scale: scale)
        }
        switch field.type {
        case MYSQL_TYPE_TINY, MYSQL_TYPE_SHORT, MYSQL_TYPE_INT24, MYSQL_TYPE_LONG, MYSQL_TYPE_YEAR:
            return make(.int64)
        case MYSQL_TYPE_LONGLONG:
            return unsigned ? make(.decimal, precision: 20, scale: 0) : make(.int64)
        case MYSQL_TYPE_DECIMAL, MYSQL_TYPE_NEWDECIMAL:
            // The display length counts the digits, a point when there is a scale, and a sign unless unsigned.
            let scale = Int(field.decimals)
            let precision = Int(field.length) - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1)
            return make(.decimal, precision: max(precision, 1), scale: scale)
        case MYSQL_TYPE_FLOAT, MYSQL_TYPE_DOUBLE:
            return make(.float64)
        case MYSQL_TYPE_DATE, MYSQL_TYPE_NEWDATE:
            return make(.date)
        case MYSQL_TYPE_TIME, MYSQL_TYPE_TIME2:
            return make(.time)
        case MYSQL_TYPE_DATETIME, MYSQL_TYPE_DATETIME2:
            return make(.timestamp)
        case MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_TIMESTAMP2:
            return make(.timestamptz)
        case MYSQL_TYPE_JSON:
            return make(.json)
        case MYSQL_TYPE_BIT, MYSQL_TYPE_GEOMETRY:
            return make(.bytes)
        default:
            if let name = attribute(field, MARIADB_FIELD_ATTR_DATA_TYPE_NAME), name == "uuid" { return make(.uuid) }
            if let format = attribute(field, MARIADB_FIELD_ATTR_FORMAT_NAME), format == "json" { return make(.json) }
            return make(binary ? .bytes : .text)
        }
    }

    /// MariaDB's extended metadata of a field (`json`, `uuid`), when the server sent it.
    private static func attribute(_ field: MYSQL_FIELD, _ kind: mariadb_field_attr_t) -> String? {
        var field = field
        var value = MARIADB_CONST_STRING(str: nil, length: 0)
        guard mariadb_field_attr(&value, &field, kind) == 0, let pointer = value.str, value.length > 0 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: value.length), as: UTF8.self)
    }

    /// Appends one row's values (text protocol: each value the server's text, NUL-terminated) to a
    /// batch whose columns have the types of `schema(_:)`; returns the bytes read.
    static func appendRow(_ values: MYSQL_ROW, lengths: UnsafeMutablePointer<UInt>, to builder: inout BatchBuilder) -> Int {
        var bytes = 0
        for index in 0..<builder.columns.count {
            guard let pointer = values[index] else {
                builder.columns[index].appendNull()
                continue
            }
            let count = Int(lengths[index])
            bytes += count
            let buffer = UnsafeRawBufferPointer(start: pointer, count: count)
            switch builder.columns[index].type {
            case .int64:
                if let value = parseInt(buffer) {
                    builder.columns[index].append(value)
                } else {
                    builder.columns[index].appendBytes(buffer)
                }
            case .float64:
                builder.columns[index].append(strtod(pointer, nil))
            case .timestamptz:
                appendUTC(buffer, to: &builder.columns[index])
            default:
                builder.columns[index].appendBytes(buffer)
            }
        }
        return bytes
    }

    /// A TIMESTAMP read in UTC, written as the other timestamptz sources write it: `T` between date
    /// and time, `+00:00` appended.
    private static func appendUTC(_ text: UnsafeRawBufferPointer, to builder: inout ColumnBuilder) {
        let suffix: StaticString = "+00:00"
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: text.count + suffix.utf8CodeUnitCount) { buffer in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            if let source = text.baseAddress { base.copyMemory(from: source, byteCount: text.count) }
            if text.count > 10 && buffer[10] == UInt8(ascii: " ") { buffer[10] = UInt8(ascii: "T") }
            (base + text.count).copyMemory(from: suffix.utf8Start, byteCount: suffix.utf8CodeUnitCount)
            builder.appendBytes(UnsafeRawBufferPointer(start: base, count: text.count + suffix.utf8CodeUnitCount))
        }
    }

    /// The integer the server's text spells (`-?[0-9]+`), or nil when it does not fit int64.
    static func parseInt(_ text: UnsafeRawBufferPointer) -> Int64? {
        guard !text.isEmpty else { return nil }
        let negative = text[0] == UInt8(ascii: "-")
        var index = negative ? 1 : 0
        guard index < text.count else { return nil }
        var magnitude: UInt64 = 0
        while index < text.count {
            let digit = text[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }
}

extension MySQLTypes {
    /// The MariaDB column type `mysql.writer` creates for a logical field (documented in osiris-components(7)).
    ///
    /// | logical | MariaDB column |
    /// |---|---|
    /// | bool | BOOLEAN (TINYINT(1)), written 1/0 |
    /// | int64 | BIGINT |
    /// | float64 | DOUBLE |
    /// | decimal(p,s) | DECIMAL(p,s); without precision DECIMAL(65,30), the widest MariaDB has (more digits fail the step) |
    /// | text | LONGTEXT; VARCHAR(255) for a primary key column (an index needs a length) |
    /// | bytes | LONGBLOB; VARBINARY(255) for a primary key column |
    /// | date, time, timestamp | DATE, TIME(6), DATETIME(6) |
    /// | timestamptz | TIMESTAMP(6), in UTC: 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC, a value outside fails the step |
    /// | json | JSON |
    /// | uuid | UUID on MariaDB 10.7 and later, CHAR(36) before and on MySQL |
    static func columnType(_ field: Field, isKey: Bool, hasUUID: Bool) throws(StepError) -> String {
        switch field.type {
        case .bool: return "BOOLEAN"
        case .int64: return "BIGINT"
        case .float64: return "DOUBLE"
        case .decimal:
            let precision = field.precision ?? 65
            let scale = field.scale ?? (field.precision == nil ? 30 : 0)
            guard precision <= 65, scale <= 38, scale <= precision, precision > 0 else {
                throw StepError(.run, """
                    column '\(field.name)' is decimal(\(precision),\(scale)); MariaDB's DECIMAL holds at most 65 digits, 38 of them after the point
                    """)
            }
            return "DECIMAL(\(precision),\(scale))"
        case .text: return isKey ? "VARCHAR(255)" : "LONGTEXT"
        case .bytes: return isKey ? "VARBINARY(255)" : "LONGBLOB"
        case .date: return "DATE"
        case .time: return "TIME(6)"
        case .timestamp: return "DATETIME(6)"
        case .timestamptz: return "TIMESTAMP(6)"
        case .json: return "JSON"
        case .uuid: return hasUUID ? "UUID" : "CHAR(36)"
        }
    }

    /// The column definitions and keys of a `CREATE TABLE` for `schema`: backquoted names, types of
    /// `columnType`, NULL / NOT NULL from the fields (key columns NOT NULL), then `PRIMARY KEY (...)`.
    static func tableDefinition(_ schema: Schema, primaryKey: [String], hasUUID: Bool) throws(StepError) -> String {
        let keys = Set(primaryKey.map { $0.lowercased() })
        var parts: [String] = []
        for field in schema.fields {
            let isKey = keys.contains(field.name.lowercased())
            let type = try columnType(field, isKey: isKey, hasUUID: hasUUID)
            parts.append("\(MySQLExtractor.quote(field.name)) \(type) \(field.nullable && !isKey ? "NULL" : "NOT NULL")")
        }
        if !primaryKey.isEmpty { parts.append("PRIMARY KEY (\(primaryKey.map(MySQLExtractor.quote).joined(separator: ", ")))") }
        return parts.joined(separator: ", ")
    }
}
