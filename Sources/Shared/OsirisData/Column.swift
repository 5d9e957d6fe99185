/// An immutable column of a record batch: a typed buffer plus a validity bitmap.
///
/// Layout: `int64` values and `float64` bit patterns in one 64-bit buffer; `bool` as one byte per
/// row; byte-backed types (`LogicalType.isByteBacked`) as one byte buffer with `count + 1` offsets,
/// value `i` being bytes `offsets[i]..<offsets[i + 1]`. A null row holds a zero or an empty value.
public struct Column: Sendable {
    /// The column's logical type.
    public let type: LogicalType
    /// The number of rows.
    public let count: Int
    /// The number of null rows.
    let nullCount: Int
    /// Bit `row` set when the row holds a value.
    let validity: Buffer<UInt8>
    /// Byte-backed values, or one byte (0 or 1) per row for bool.
    let data: Buffer<UInt8>
    /// Int64 values, float64 bit patterns, or the `count + 1` offsets of byte-backed values.
    let words: Buffer<Int64>

    init(type: LogicalType, count: Int, nullCount: Int, validity: Buffer<UInt8>, data: Buffer<UInt8>, words: Buffer<Int64>) {
        self.type = type
        self.count = count
        self.nullCount = nullCount
        self.validity = validity
        self.data = data
        self.words = words
    }

    /// The same values under another type with the same layout (a textual type relabelled).
    func relabeled(_ newType: LogicalType) -> Column {
        Column(type: newType, count: count, nullCount: nullCount, validity: validity, data: data, words: words)
    }

    /// Whether the row is null.
    @inline(__always)
    public func isNull(_ row: Int) -> Bool {
        precondition(row >= 0 && row < count, "row out of range")
        return nullCount != 0 && !validity.bit(row)
    }

    /// The row's boolean; the column must be `bool`, and a null row reads as false.
    @inline(__always)
    public func bool(_ row: Int) -> Bool {
        precondition(type == .bool && row >= 0 && row < count, "not a bool column, or row out of range")
        return data[row] != 0
    }

    /// The row's integer; the column must be `int64`, and a null row reads as 0.
    @inline(__always)
    public func int64(_ row: Int) -> Int64 {
        precondition(type == .int64 && row >= 0 && row < count, "not an int64 column, or row out of range")
        return words[row]
    }

    /// The row's number; the column must be `float64`, and a null row reads as 0.
    @inline(__always)
    public func float64(_ row: Int) -> Double {
        precondition(type == .float64 && row >= 0 && row < count, "not a float64 column, or row out of range")
        return Double(bitPattern: UInt64(bitPattern: words[row]))
    }

    /// Calls `body` with the row's bytes (UTF-8 text, or raw bytes for `bytes`); empty for null.
    @inline(__always)
    public func withBytes<R>(_ row: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(type.isByteBacked && row >= 0 && row < count, "not a byte-backed column, or row out of range")
        let start = Int(words[row])
        return try body(UnsafeRawBufferPointer(start: data.base + start, count: Int(words[row + 1]) - start))
    }

    /// The row's value as text, the way CSV writes it: `true`, `42`, `1.5`, `\x00ff`; "" for null.
    public func string(_ row: Int) -> String {
        if isNull(row) { return "" }
        switch type {
        case .bool: return bool(row) ? "true" : "false"
        case .int64: return String(int64(row))
        case .float64: return float64(row).description
        case .bytes:
            let output = Buffer<UInt8>()
            withBytes(row) { Formatting.appendHex($0, to: output) }
            return String(decoding: UnsafeBufferPointer(start: output.base, count: output.count), as: UTF8.self)
        default:
            return withBytes(row) { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The row's value.
    public func value(_ row: Int) -> Value {
        if isNull(row) { return .null }
        switch type {
        case .bool: return .bool(bool(row))
        case .int64: return .int64(int64(row))
        case .float64: return .float64(float64(row))
        case .bytes: return .bytes(withBytes(row) { Array($0) })
        default: return .text(withBytes(row) { String(decoding: $0, as: UTF8.self) }, type)
        }
    }

    /// The memory the column holds, in bytes.
    public var byteCount: Int { validity.byteCount + data.byteCount + words.byteCount }

    /// The size of the values themselves: 8 bytes per number, 1 per bool, the bytes of text and
    /// binary values. What events report as `bytes` for data that is not a file.
    public var dataByteCount: Int {
        switch type {
        case .int64, .float64: count * 8
        case .bool: count
        default: data.count
        }
    }

    /// The start of the row's bytes and their length, for byte-backed columns; unchecked.
    @inline(__always)
    func bytes(_ row: Int) -> (pointer: UnsafeMutablePointer<UInt8>, count: Int) {
        let start = Int(words[row])
        return (data.base + start, Int(words[row + 1]) - start)
    }
}
