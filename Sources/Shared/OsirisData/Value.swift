/// One value of a column, for code that handles rows one at a time (tests, drivers binding
/// parameters); bulk paths use the typed accessors of `Column` instead.
public enum Value: Sendable, Equatable {
    /// No value.
    case null
    /// A boolean.
    case bool(Bool)
    /// A 64-bit integer.
    case int64(Int64)
    /// A 64-bit floating-point number.
    case float64(Double)
    /// Text with its textual logical type, such as `.text("12.50", .decimal)`.
    case text(String, LogicalType)
    /// Raw bytes.
    case bytes([UInt8])
}
