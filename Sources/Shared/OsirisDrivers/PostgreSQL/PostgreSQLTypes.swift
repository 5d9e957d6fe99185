import Glibc
import OsirisData

/// How PostgreSQL types map to logical types (documented in osiris-components(7)), by the type OID
/// of a result column.
///
/// | PostgreSQL | logical |
/// |---|---|
/// | boolean | bool |
/// | smallint, integer, bigint, oid | int64 |
/// | real, double precision | float64 |
/// | numeric(p,s) | decimal, precision and scale from the type modifier when given |
/// | text, varchar, char(n), name, "char" | text |
/// | date | date (`2024-05-01`) |
/// | time | time (`13:45:00.25`) |
/// | timestamp | timestamp (`2024-05-01 13:45:00`) |
/// | timestamptz | timestamptz, in UTC (`2024-05-01T11:45:00+00:00`) |
/// | json, jsonb | json |
/// | uuid | uuid |
/// | bytea | bytes |
/// | anything else (interval, timetz, arrays, enums, ...) | text, as PostgreSQL prints it |
///
/// The other way, for tables the drivers create, see `columnType`.
enum PostgreSQLTypes {
    /// How the COPY text of a column's values is turned into the column's values.
    enum Kind: Equatable {
        case bool, int64, float64, bytes, timestamptz
        /// Kept byte for byte (text, decimal, date, time, timestamp, json, uuid).
        case verbatim
    }

    /// The logical type of a type OID (`pg_type.oid`).
    static func logicalType(oid: UInt32) -> LogicalType {
        switch oid {
        case 16: .bool
        case 20, 21, 23, 26: .int64
        case 700, 701: .float64
        case 1700: .decimal
        case 1082: .date
        case 1083: .time
        case 1114: .timestamp
        case 1184: .timestamptz
        case 114, 3802: .json
        case 2950: .uuid
        case 17: .bytes
        default: .text  // 25 text, 1043 varchar, 1042 bpchar, 19 name, 18 char, and every other type
        }
    }

    /// Precision and scale of a numeric column from its type modifier (-1 when unconstrained).
    static func numericPrecisionScale(modifier: Int32) -> (Int?, Int?) {
        guard modifier >= 4 else { return (nil, nil) }
        let packed = modifier - 4
        let precision = Int((packed >> 16) & 0xFFFF)
        var scale = Int(packed & 0x7FF)
        if scale & 0x400 != 0 { scale -= 0x800 }  // PostgreSQL 15 allows a negative scale
        return scale >= 0 ? (precision, scale) : (precision, nil)
    }

    /// The schema of a described result: every column nullable (a query's result says nothing
    /// about nulls), repeated names numbered as the SQLite driver numbers them (`id`, `id_2`).
    static func schema(_ columns: [PostgreSQLConnection.ResultColumn]) -> Schema {
        var seen: [String: Int] = [:]
        return Schema(columns.map { column in
            var name = column.name
            if let count = seen[name] {
                seen[name] = count + 1
                name = "\(name)_\(count + 1)"
            } else {
                seen[name] = 1
            }
            let type = logicalType(oid: column.type)
            var field = Field(name: name, type: type)
            if type == .decimal { (field.precision, field.scale) = numericPrecisionScale(modifier: column.modifier) }
            return field
        })
    }

    /// The PostgreSQL type a column of `field`'s logical type is created with (`create_table`, the
    /// processor's input tables), chosen so every value goes in and comes back out unchanged:
    /// bool → boolean, int64 → bigint, float64 → double precision, decimal → numeric(p,s) when the
    /// precision and scale are known and valid, else numeric, text → text, bytes → bytea, json → json
    /// (not jsonb, which would reorder and respace the text), and date, time, timestamp, timestamptz,
    /// uuid as themselves.
    static func columnType(_ field: Field) -> String {
        switch field.type {
        case .bool: return "boolean"
        case .int64: return "bigint"
        case .float64: return "double precision"
        case .decimal:
            if let precision = field.precision, let scale = field.scale, (1...1000).contains(precision), (0...precision).contains(scale) {
                return "numeric(\(precision),\(scale))"
            }
            return "numeric"
        case .text: return "text"
        case .bytes: return "bytea"
        case .date: return "date"
        case .time: return "time"
        case .timestamp: return "timestamp"
        case .timestamptz: return "timestamptz"
        case .json: return "json"
        case .uuid: return "uuid"
        }
    }

    /// The column definitions of a table for `schema`: `"id" bigint, "name" text`, with `NOT NULL`
    /// for fields that cannot be null.
    static func columnDefinitions(_ schema: Schema) -> String {
        schema.fields.map { field in
            PostgreSQLConnection.quote(field.name) + " " + columnType(field) + (field.nullable ? "" : " NOT NULL")
        }.joined(separator: ", ")
    }

    /// How each field's values are parsed.
    static func kinds(_ schema: Schema) -> [Kind] {
        schema.fields.map { field in
            switch field.type {
            case .bool: .bool
            case .int64: .int64
            case .float64: .float64
            case .bytes: .bytes
            case .timestamptz: .timestamptz
            default: .verbatim
            }
        }
    }
}

/// Parses rows of PostgreSQL's COPY text format into a batch: fields split at tabs, `\N` for null,
/// backslash escapes (`\t`, `\n`, `\\`, `\r`, `\b`, `\f`, `\v`, octal `\ooo`, hex `\xhh`) undone,
/// bytea's hex text (`\x0aff`) decoded into bytes, timestamptz values rewritten from
/// `2024-05-01 11:45:00+00` to `2024-05-01T11:45:00+00:00`.
struct PostgreSQLCopyParser {
    let kinds: [PostgreSQLTypes.Kind]
    private var scratch: [UInt8] = []
    private var decoded: [UInt8] = []

    /// A parser for columns of the given kinds.
    init(kinds: [PostgreSQLTypes.Kind]) { self.kinds = kinds }

    /// Appends one row (with or without its final newline) to `builder`; a row whose field count
    /// differs from the columns' is an internal error.
    mutating func appendRow(_ row: UnsafeRawBufferPointer, to builder: inout BatchBuilder) throws(StepError) {
        guard let base = row.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw StepError(.internalError, "PostgreSQL COPY sent an empty row")
        }
        var end = row.count
        if end > 0 && base[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        // Most rows hold no backslash at all: one vectorised search spares a test per byte below.
        let rowEscaped = memchr(base, Int32(UInt8(ascii: "\\")), end) != nil
        let fields = kinds.count
        var column = 0
        // One uniqueness check of the columns array per row, not one per field.
        var failure: StepError?
        builder.columns.withUnsafeMutableBufferPointer { columns in
            var start = 0
            while true {
                var stop = start
                var escaped = false
                if rowEscaped {
                    while stop < end && base[stop] != 0x09 {
                        if base[stop] == UInt8(ascii: "\\") { escaped = true }
                        stop += 1
                    }
                } else {
                    while stop < end && base[stop] != 0x09 { stop += 1 }
                }
                guard column < fields else {
                    failure = StepError(.internalError, "PostgreSQL COPY sent more fields than the \(fields) columns described")
                    return
                }
                do throws(StepError) {
                    try appendField(base + start, stop - start, escaped: escaped, to: &columns[column], kind: kinds[column])
                } catch {
                    failure = error
                    return
                }
                column += 1
                if stop >= end { break }
                start = stop + 1
            }
        }
        if let failure { throw failure }
        guard column == fields else {
            throw StepError(.internalError, "PostgreSQL COPY sent \(column) fields for \(fields) columns")
        }
    }

    @inline(__always)
    private mutating func appendField(
        _ pointer: UnsafePointer<UInt8>, _ count: Int, escaped: Bool, to builder: inout ColumnBuilder, kind: PostgreSQLTypes.Kind
    ) throws(StepError) {
        if escaped {
            if count == 2 && pointer[1] == UInt8(ascii: "N") {
                builder.appendNull()
                return
            }
            unescape(pointer, count)
            try scratch.withUnsafeBufferPointer { buffer throws(StepError) in
                try append(buffer.baseAddress!, buffer.count, to: &builder, kind: kind)
            }
        } else {
            try append(pointer, count, to: &builder, kind: kind)
        }
    }

    @inline(__always)
    private mutating func append(
        _ pointer: UnsafePointer<UInt8>, _ count: Int, to builder: inout ColumnBuilder, kind: PostgreSQLTypes.Kind
    ) throws(StepError) {
        switch kind {
        case .verbatim:
            builder.appendBytes(UnsafeRawBufferPointer(start: pointer, count: count))
        case .bool:
            builder.append(count > 0 && pointer[0] == UInt8(ascii: "t"))
        case .int64:
            guard let value = Self.integer(pointer, count) else { throw badValue(pointer, count, "an integer") }
            builder.append(value)
        case .float64:
            guard let value = Double(String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)) else {
                throw badValue(pointer, count, "a number")
            }
            builder.append(value)
        case .bytes:
            guard count >= 2, pointer[0] == UInt8(ascii: "\\"), pointer[1] == UInt8(ascii: "x"), count % 2 == 0 else {
                throw badValue(pointer, count, "bytea in hex format")
            }
            decoded.removeAll(keepingCapacity: true)
            var index = 2
            while index < count {
                guard let high = Self.hexDigit(pointer[index]), let low = Self.hexDigit(pointer[index + 1]) else {
                    throw badValue(pointer, count, "bytea in hex format")
                }
                decoded.append(high << 4 | low)
                index += 2
            }
            decoded.withUnsafeBytes { builder.appendBytes($0) }
        case .timestamptz:
            appendTimestampWithZone(pointer, count, to: &builder)
        }
    }

    /// `YYYY-MM-DD HH:MM:SS[.f]+HH[:MM]` as `YYYY-MM-DDTHH:MM:SS[.f]+HH:MM`; other shapes (BC dates,
    /// years past 9999, infinity) as PostgreSQL prints them.
    private func appendTimestampWithZone(_ pointer: UnsafePointer<UInt8>, _ count: Int, to builder: inout ColumnBuilder) {
        let sign = count >= 3 ? pointer[count - 3] : 0
        guard count >= 22, pointer[10] == UInt8(ascii: " "), pointer[4] == UInt8(ascii: "-"),
              sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else {
            builder.appendBytes(UnsafeRawBufferPointer(start: pointer, count: count))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count + 3) { buffer in
            for index in 0..<count { buffer[index] = pointer[index] }
            buffer[10] = UInt8(ascii: "T")
            buffer[count] = UInt8(ascii: ":")
            buffer[count + 1] = UInt8(ascii: "0")
            buffer[count + 2] = UInt8(ascii: "0")
            builder.appendBytes(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count + 3))
        }
    }

    private func badValue(_ pointer: UnsafePointer<UInt8>, _ count: Int, _ what: String) -> StepError {
        let text = String(decoding: UnsafeBufferPointer(start: pointer, count: min(count, 40)), as: UTF8.self)
        return StepError(.internalError, "PostgreSQL COPY sent '\(text)' where \(what) was expected")
    }

    /// Undoes COPY's backslash escapes into `scratch`.
    private mutating func unescape(_ pointer: UnsafePointer<UInt8>, _ count: Int) {
        scratch.removeAll(keepingCapacity: true)
        var index = 0
        while index < count {
            let byte = pointer[index]
            index += 1
            guard byte == UInt8(ascii: "\\"), index < count else {
                scratch.append(byte)
                continue
            }
            let next = pointer[index]
            index += 1
            switch next {
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "v"): scratch.append(0x0B)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = next - UInt8(ascii: "0")
                var digits = 1
                while digits < 3, index < count, pointer[index] >= UInt8(ascii: "0"), pointer[index] <= UInt8(ascii: "7") {
                    value = value &* 8 &+ (pointer[index] - UInt8(ascii: "0"))
                    index += 1
                    digits += 1
                }
                scratch.append(value)
            case UInt8(ascii: "x") where index < count && Self.hexDigit(pointer[index]) != nil:
                var value = Self.hexDigit(pointer[index])!
                index += 1
                if index < count, let low = Self.hexDigit(pointer[index]) {
                    value = value << 4 | low
                    index += 1
                }
                scratch.append(value)
            default: scratch.append(next)  // `\\` and any other escaped character stand for themselves
            }
        }
    }

    @inline(__always)
    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A decimal integer with an optional sign, or nil when it is not one or overflows.
    @inline(__always)
    private static func integer(_ pointer: UnsafePointer<UInt8>, _ count: Int) -> Int64? {
        guard count > 0 else { return nil }
        var index = 0
        let negative = pointer[0] == UInt8(ascii: "-")
        if negative || pointer[0] == UInt8(ascii: "+") { index = 1 }
        guard index < count else { return nil }
        var value: Int64 = 0
        while index < count {
            let digit = pointer[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? times.subtractingReportingOverflow(Int64(digit)) : times.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        return value
    }
}
