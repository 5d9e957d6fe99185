import CSQLite3
#if canImport(Glibc)
import Glibc
#endif
import OsirisData

/// How logical types map to SQLite and back (documented in osiris-components(7)).
///
/// | logical | SQLite declared type | stored as |
/// |---|---|---|
/// | bool | BOOLEAN | integer 0/1 |
/// | int64 | INTEGER | integer |
/// | float64 | REAL | real |
/// | decimal(p,s) | NUMERIC(p,s), or NUMERIC without a known precision and scale | real or integer (SQLite has no exact decimal); read back with the declared scale |
/// | text, json, uuid | TEXT, JSON, UUID | text |
/// | date, time, timestamp, timestamptz | DATE, TIME, TIMESTAMP, TIMESTAMPTZ | ISO 8601 text |
/// | bytes | BLOB | blob |
enum SQLiteTypes {
    /// The declared column type for a logical type.
    static func declaredType(_ type: LogicalType) -> String {
        switch type {
        case .bool: "BOOLEAN"
        case .int64: "INTEGER"
        case .float64: "REAL"
        case .decimal: "NUMERIC"
        case .text: "TEXT"
        case .bytes: "BLOB"
        case .date: "DATE"
        case .time: "TIME"
        case .timestamp: "TIMESTAMP"
        case .timestamptz: "TIMESTAMPTZ"
        case .json: "JSON"
        case .uuid: "UUID"
        }
    }

    /// The declared column type for a field: a decimal with a known precision and scale declares
    /// them (`NUMERIC(10,2)`), so the scale comes back when the column is read (SQLite stores `64.00`
    /// as the integer 64 whatever the declared type says).
    static func declaredType(_ field: Field) -> String {
        if field.type == .decimal, let precision = field.precision, let scale = field.scale, precision > 0, (0...precision).contains(scale) {
            return "NUMERIC(\(precision),\(scale))"
        }
        return declaredType(field.type)
    }

    /// The column definitions of a table for `schema`: quoted names and declared types (a table
    /// needs at least one column, so an empty schema gets a placeholder).
    static func columnDefinitions(_ schema: Schema) -> String {
        let columns = schema.fields.map { "\(SQLiteDatabase.quote($0.name)) \(declaredType($0))" }
        return columns.isEmpty ? "\"_\" TEXT" : columns.joined(separator: ", ")
    }

    /// The field of a declared column type: its logical type and, for `NUMERIC(p,s)` and
    /// `DECIMAL(p,s)` (`DECIMAL(p)` has scale 0), the precision and scale; nil as `logicalType`.
    static func field(named name: String, declared: String?) -> Field? {
        guard let type = logicalType(declared: declared) else { return nil }
        var field = Field(name: name, type: type)
        if type == .decimal, let declared, let open = declared.firstIndex(of: "("), let close = declared.lastIndex(of: ")"), open < close {
            let numbers = declared[declared.index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false)
                .map { Int(String($0.filter { $0 != " " })) }
            if numbers.count <= 2, let precision = numbers[0], precision > 0 {
                let scale = numbers.count == 2 ? numbers[1] : 0
                if let scale, (0...precision).contains(scale) {
                    field.precision = precision
                    field.scale = scale
                }
            }
        }
        return field
    }

    /// The logical type of a declared column type, following SQLite's affinity rules with the
    /// common names of other databases; nil when the declared type says nothing (expressions).
    static func logicalType(declared: String?) -> LogicalType? {
        guard let declared, !declared.isEmpty else { return nil }
        let upper = declared.uppercased()
        if upper.hasPrefix("BOOL") { return .bool }
        if upper == "TIMESTAMPTZ" || upper.contains("WITH TIME ZONE") { return .timestamptz }
        if upper.hasPrefix("TIMESTAMP") || upper.hasPrefix("DATETIME") { return .timestamp }
        if upper == "DATE" { return .date }
        if upper.hasPrefix("TIME") { return .time }
        if upper == "JSON" || upper == "JSONB" { return .json }
        if upper == "UUID" { return .uuid }
        if upper.contains("INT") { return .int64 }
        if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") { return .text }
        if upper.contains("BLOB") { return .bytes }
        if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") { return .float64 }
        if upper.hasPrefix("NUMERIC") || upper.hasPrefix("DECIMAL") { return .decimal }
        return nil
    }

    /// The schema of a statement's result: declared types where SQLite knows them (a column read
    /// straight from a table, with a decimal's precision and scale), else the field `typed` gives for
    /// the column's index (an expression whose type the caller knows, such as the SUM of a decimal
    /// column), else the type of the first row's values (text until a row says otherwise; builders
    /// widen as needed).
    static func schema(of statement: SQLiteStatement, firstRow: Bool, typed: [Int: Field] = [:]) -> Schema {
        var fields: [Field] = []
        var seen: [String: Int] = [:]
        for index in 0..<statement.columnCount {
            var name = statement.columnName(index)
            if let count = seen[name] {
                seen[name] = count + 1
                name = "\(name)_\(count + 1)"
            } else {
                seen[name] = 1
            }
            if let field = field(named: name, declared: statement.declaredType(index)) {
                fields.append(field)
                continue
            }
            if var field = typed[index] {
                field.name = name
                fields.append(field)
                continue
            }
            var type = LogicalType.text
            if firstRow {
                switch sqlite3_column_type(statement.statement, Int32(index)) {
                case SQLITE_INTEGER: type = .int64
                case SQLITE_FLOAT: type = .float64
                case SQLITE_BLOB: type = .bytes
                default: type = .text
                }
            }
            fields.append(Field(name: name, type: type))
        }
        return Schema(fields)
    }

    /// Streams a statement's rows (`hasRow`: whether it stands on one) into `output` in batches of
    /// `batchSize`, calling `counted` with each batch and the bytes SQLite returned for it. When the
    /// rows end, `more` may return another statement whose rows continue the same result (the second
    /// half of a split GROUP BY), stepped to its first row. With `plain`, `statement` is its
    /// statement, and each row is taken from the input instead of from SQLite (see `PlainSelect`).
    ///
    /// SQLite types values, not columns, so the schema is declared once the first batch is built: a
    /// column whose values in it have several storage classes (integers and reals in an expression)
    /// is declared with the type that holds them all. A later batch that needs a wider type would
    /// break the stream's schema, so it fails the step instead, naming the column and the fix.
    static func stream(
        _ statement: SQLiteStatement, hasRow: Bool, batchSize: Int, context: StepContext, output: any BatchSink,
        typed: [Int: Field] = [:], then more: () throws(StepError) -> (SQLiteStatement, Bool)? = { nil },
        plain: PlainSelect? = nil, counted: (RecordBatch, Int) -> Void
    ) throws(StepError) {
        var statement = statement
        var hasRow = hasRow
        var schema = plain?.schema ?? Self.schema(of: statement, firstRow: hasRow, typed: typed)
        // The scale of each decimal column that has one (-1 elsewhere): its values are written with it.
        let scales = schema.fields.map { $0.type == .decimal ? $0.scale ?? -1 : -1 }
        var declared = false
        var builder = BatchBuilder(schema: schema, capacity: batchSize)
        var bytes = 0
        func emit() throws(StepError) {
            let batch = builder.finish()
            if !declared {
                schema = batch.schema
                try output.start(schema: schema)
                declared = true
                builder = BatchBuilder(schema: schema, capacity: batchSize)
            } else if batch.schema != schema {
                let index = schema.fields.indices.first { schema.fields[$0] != batch.schema.fields[$0] } ?? 0
                let field = schema.fields[index]
                throw StepError(.run, """
                    step '\(context.step.id)': column \(index + 1) ('\(field.name)') of the result was \(field.type.rawValue) \
                    in the first \(batchSize) rows, but a later row holds a \(batch.schema.fields[index].type.rawValue) value \
                    (SQLite types values, not columns); CAST the column in the query, for example \
                    CAST(\(SQLiteDatabase.quote(field.name)) AS TEXT)
                    """)
            }
            counted(batch, bytes)
            bytes = 0
            try context.cancellation.check()
            try output.send(batch)
        }
        while true {
            while hasRow {
                if let plain {
                    bytes += plain.appendRow(to: &builder, scales: scales)
                } else {
                    bytes += appendRow(of: statement, to: &builder, scales: scales)
                }
                if builder.count == batchSize { try emit() }
                hasRow = try statement.step()
            }
            guard let (next, nextHasRow) = try more() else { break }
            statement = next
            hasRow = nextHasRow
        }
        if builder.count > 0 { try emit() }
        if !declared { try output.start(schema: schema) }
    }

    /// Appends the current row's values to a batch, converting SQLite's storage classes to the
    /// column types (widening a column when a value does not fit). A number in a decimal column
    /// with a scale (`scales[index] >= 0`) is written with that many digits after the point.
    static func appendRow(of statement: SQLiteStatement, to builder: inout BatchBuilder, scales: [Int]) -> Int {
        let handle = statement.statement
        // One uniqueness check of the array per row instead of one per value.
        return builder.columns.withUnsafeMutableBufferPointer { columns in
            var bytes = 0
            for index in 0..<columns.count {
                let column = Int32(index)
                let value: SQLiteValue
                switch sqlite3_column_type(handle, column) {
                case SQLITE_NULL: value = .null
                case SQLITE_INTEGER: value = .integer(sqlite3_column_int64(handle, column))
                case SQLITE_FLOAT: value = .real(sqlite3_column_double(handle, column))
                case let type:
                    // `sqlite3_column_blob` gives a text value's bytes as they are; `sqlite3_column_text`
                    // would first reallocate every string a virtual table returned, to add the NUL
                    // terminator this does not need. Bytes first, then their count, as SQLite advises.
                    let pointer = sqlite3_column_blob(handle, column)
                    let text = UnsafeRawBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column)))
                    value = type == SQLITE_BLOB ? .blob(text) : .text(text)
                }
                bytes += append(value, to: &columns[index], scale: scales[index])
            }
            return bytes
        }
    }

    /// Appends one value as SQLite holds it to a column, converting its storage class to the
    /// column's type (widening the column when the value does not fit); a number in a decimal column
    /// with a scale (`scale >= 0`) is written with that many digits after the point. Returns the
    /// bytes the value took in SQLite (8 for a number).
    @inline(__always)
    static func append(_ value: SQLiteValue, to column: inout ColumnBuilder, scale: Int) -> Int {
        switch value {
        case .null:
            column.appendNull()
            return 0
        case .integer(let number):
            switch column.type {
            case .bool: column.append(number != 0)
            case .int64: column.append(number)
            case .float64: column.append(Double(number))
            case .decimal: appendDigits(of: number, scale: scale, to: &column)
            // SQLite's text of an integer ("%lld").
            default: appendDigits(of: number, scale: -1, to: &column)
            }
            return 8
        case .real(let number):
            switch column.type {
            case .float64: column.append(number)
            case .int64: column.append(Value.float64(number))
            case .decimal where scale >= 0 && appendScaled(number, scale: scale, to: &column):
                break
            case .decimal where !appendShortest(number, to: &column):
                appendText(of: number, to: &column)
            case .decimal: break
            default: appendText(of: number, to: &column)
            }
            return 8
        case .blob(let bytes):
            if column.type == .bytes {
                column.appendBytes(bytes)
            } else {
                appendText(bytes, to: &column)
            }
            return bytes.count
        case .text(let bytes):
            appendText(bytes, to: &column)
            return bytes.count
        }
    }

    /// An integer's decimal digits, without going through SQLite's text conversion, with `scale`
    /// zeros after a point when the column has a scale above 0 (`64` as `64.00`).
    private static func appendDigits(of value: Int64, scale: Int, to builder: inout ColumnBuilder) {
        let zeros = max(scale, 0)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21 + zeros) { buffer in
            let end = buffer.count
            var index = end
            if zeros > 0 {
                index -= zeros
                buffer.baseAddress!.advanced(by: index).initialize(repeating: UInt8(ascii: "0"), count: zeros)
                index -= 1
                buffer[index] = UInt8(ascii: ".")
            }
            var magnitude = value.magnitude
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                index -= 1
                buffer[index] = UInt8(ascii: "-")
            }
            builder.appendBytes(UnsafeRawBufferPointer(start: buffer.baseAddress! + index, count: end - index))
        }
    }

    /// Powers of ten that doubles hold exactly.
    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// A real rounded to `scale` digits after the point (`650.05`, `0.30` for the sum 0.1 + 0.2), when
    /// the scaled value has at most 15 digits, so the double holds the decimal closely enough for the
    /// rounding to be exact; false when it does not and the caller falls back to the shortest form.
    private static func appendScaled(_ value: Double, scale: Int, to builder: inout ColumnBuilder) -> Bool {
        guard scale < powersOfTen.count else { return false }
        let scaled = (value * powersOfTen[scale]).rounded(.toNearestOrAwayFromZero)
        guard scaled.magnitude < 1e15 else { return false }
        let units = Int64(scaled)
        let digits = max(scale + 1, 1)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buffer in
            var magnitude = units.magnitude
            var index = buffer.count
            var written = 0
            repeat {
                if written == scale, scale > 0 {
                    index -= 1
                    buffer[index] = UInt8(ascii: ".")
                }
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                written += 1
            } while magnitude > 0 || written < digits
            if units < 0 {
                index -= 1
                buffer[index] = UInt8(ascii: "-")
            }
            builder.appendBytes(UnsafeRawBufferPointer(start: buffer.baseAddress! + index, count: buffer.count - index))
        }
        return true
    }

    /// A real's text as SQLite would give it (15 significant digits), taken from Swift's shortest
    /// form when that has at most 15 digits and no exponent, which is then the same text; false when
    /// SQLite has to format it.
    private static func appendShortest(_ value: Double, to builder: inout ColumnBuilder) -> Bool {
        guard value.isFinite else { return false }
        var text = value.description
        var digits = 0
        var plain = true
        text.withUTF8 { bytes in
            for byte in bytes {
                if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    digits += 1
                } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    plain = false
                }
            }
        }
        // Leading zeros of numbers below one are no significant digits, but counting them errs on the safe side.
        guard plain, digits <= 15 else { return false }
        text.withUTF8 { builder.appendBytes(UnsafeRawBufferPointer($0)) }
        return true
    }

    /// Appends text: as it is to a textual column, as a `Value.text` to any other (which widens it).
    private static func appendText(_ bytes: UnsafeRawBufferPointer, to builder: inout ColumnBuilder) {
        if builder.type.isByteBacked {
            builder.appendBytes(bytes)
        } else {
            builder.append(Value.text(String(decoding: bytes, as: UTF8.self), .text))
        }
    }

    /// Appends a real's text as SQLite renders it (15 significant digits, `1.0e+20` style exponents).
    private static func appendText(of number: Double, to builder: inout ColumnBuilder) {
        guard let text = osiris_sqlite3_real_text(number) else {
            appendText(UnsafeRawBufferPointer(start: nil, count: 0), to: &builder)
            return
        }
        defer { sqlite3_free(text) }
        appendText(UnsafeRawBufferPointer(start: text, count: strlen(text)), to: &builder)
    }
}
