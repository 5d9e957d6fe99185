/// The logical types a column can have (DESIGN.md §7.1).
///
/// Every type but `bool`, `int64` and `float64` is kept as bytes: the textual types as UTF-8 text,
/// exactly as the source gave it (so a `decimal` of `12.50` stays `12.50`), and `bytes` as raw bytes.
public enum LogicalType: String, Sendable, CaseIterable {
    /// `true` or `false`.
    case bool
    /// A signed 64-bit integer.
    case int64
    /// A 64-bit IEEE 754 floating-point number.
    case float64
    /// An exact decimal number, kept as its text (`-12.50`), with precision and scale on the field.
    case decimal
    /// UTF-8 text.
    case text
    /// Raw bytes, written as `\x` and lowercase hexadecimal in text formats.
    case bytes
    /// A calendar date as text, such as `2024-05-01`.
    case date
    /// A time of day as text, such as `13:45:00` or `13:45:00.25`.
    case time
    /// A date and time without a zone as text, such as `2024-05-01 13:45:00`.
    case timestamp
    /// A date and time with a zone or offset as text, such as `2024-05-01T13:45:00+02:00`.
    case timestamptz
    /// A JSON document as text.
    case json
    /// A UUID as text, such as `8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f`.
    case uuid

    /// Whether values are stored as UTF-8 text bytes (every type but bool, int64, float64 and bytes).
    public var isTextual: Bool {
        switch self {
        case .bool, .int64, .float64, .bytes: false
        case .decimal, .text, .date, .time, .timestamp, .timestamptz, .json, .uuid: true
        }
    }

    /// Whether values are stored as bytes with offsets: the textual types and `bytes`.
    public var isByteBacked: Bool { isTextual || self == .bytes }

    /// Whether the type is a number written without quotes by the `nonnumeric` CSV quoting.
    var isNumeric: Bool { self == .int64 || self == .float64 || self == .decimal }
}

/// A named, typed column of a schema.
public struct Field: Sendable, Equatable {
    /// The column's name.
    public var name: String
    /// The column's logical type.
    public var type: LogicalType
    /// Whether the column may hold nulls.
    public var nullable: Bool
    /// For decimals, the total number of significant digits, when known.
    public var precision: Int?
    /// For decimals, the number of digits after the decimal point, when known.
    public var scale: Int?

    /// Creates a field.
    public init(name: String, type: LogicalType, nullable: Bool = true, precision: Int? = nil, scale: Int? = nil) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.precision = precision
        self.scale = scale
    }
}

/// The ordered fields of a record batch; columns keep their upstream order.
public struct Schema: Sendable, Equatable {
    /// The fields, in column order.
    public var fields: [Field]

    /// Creates a schema from its fields.
    public init(_ fields: [Field]) { self.fields = fields }

    /// The field names, in column order.
    public var names: [String] { fields.map(\.name) }
}

extension Field {
    /// The field as a schema entry in messages: `name int64`, `price decimal(10,2)`, `note text null`.
    public var summary: String {
        var text = "\(name) \(type.rawValue)"
        if type == .decimal, precision != nil || scale != nil {
            text += "(\(precision.map(String.init) ?? "?"),\(scale.map(String.init) ?? "?"))"
        }
        return nullable ? text + " null" : text
    }
}

extension Schema {
    /// How `other` differs from this schema, for messages (the first difference), or nil when they are equal.
    public func difference(from other: Schema) -> String? {
        if self == other { return nil }
        for (index, (mine, theirs)) in zip(fields, other.fields).enumerated() where mine != theirs {
            return "column \(index + 1) is '\(theirs.summary)', not '\(mine.summary)'"
        }
        return "\(other.fields.count) columns, not \(fields.count)"
    }
}
