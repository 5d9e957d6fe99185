/// A slice of a table: a schema and one column per field, all with the same number of rows
/// (about 64K rows per batch between steps, DESIGN.md §7.1).
public struct RecordBatch: Sendable {
    /// The batch's schema; its types are the columns' types.
    public let schema: Schema
    /// The columns, in schema order.
    public let columns: [Column]
    /// The number of rows.
    public let count: Int

    /// Creates a batch; the columns must match the schema's fields in number and type, and have the same length.
    public init(schema: Schema, columns: [Column]) {
        precondition(schema.fields.count == columns.count, "a batch needs one column per field")
        let count = columns.first?.count ?? 0
        for (field, column) in zip(schema.fields, columns) {
            precondition(field.type == column.type, "column '\(field.name)' is \(column.type), the schema says \(field.type)")
            precondition(column.count == count, "columns of a batch must have the same length")
        }
        self.schema = schema
        self.columns = columns
        self.count = count
    }

    /// The memory the batch holds, in bytes (approximate).
    public var byteCount: Int { columns.reduce(0) { $0 + $1.byteCount } }

    /// The size of the values themselves (see `Column.dataByteCount`).
    public var dataByteCount: Int { columns.reduce(0) { $0 + $1.dataByteCount } }
}

/// Builds record batches row by row for drivers: append to each column, then `finish()`.
public struct BatchBuilder: Sendable {
    /// The schema given at creation.
    public let schema: Schema
    /// One builder per field, for direct appends: `builder.columns[i].append(...)`.
    public var columns: [ColumnBuilder]

    /// Creates a builder for `schema` with room for `capacity` rows.
    public init(schema: Schema, capacity: Int = 65_536) {
        self.schema = schema
        columns = schema.fields.map { ColumnBuilder(type: $0.type, capacity: capacity) }
    }

    /// The number of rows appended (every column has the same count once a row is complete).
    public var count: Int { columns.first?.count ?? 0 }

    /// Hands the rows over as a batch whose schema carries the columns' final (possibly widened)
    /// types, and empties the builder.
    public mutating func finish() -> RecordBatch {
        var fields = schema.fields
        var built: [Column] = []
        built.reserveCapacity(columns.count)
        for index in columns.indices {
            let column = columns[index].finish()
            if fields[index].type != column.type {
                fields[index].type = column.type
                if column.type != .decimal {
                    fields[index].precision = nil
                    fields[index].scale = nil
                }
            }
            built.append(column)
        }
        return RecordBatch(schema: Schema(fields), columns: built)
    }
}
