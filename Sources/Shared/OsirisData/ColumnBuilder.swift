/// Builds one column row by row, then hands it over as an immutable `Column`.
///
/// A value that does not fit the column's type widens the column rather than failing, so no data
/// is lost: an int64 into a float64 column is converted; a float64 into an int64 column turns the
/// column into float64; a bool into a numeric column becomes 1 or 0; an int64 into a decimal column
/// is appended as its digits; anything else that does not fit turns the column into `.text`, with
/// the values already appended converted to their text form (`Column.string(_:)`).
public struct ColumnBuilder: Sendable {
    /// The column's current type; starts as the declared type and may widen.
    public private(set) var type: LogicalType
    /// The type given at creation, restored by `finish()`.
    private let declaredType: LogicalType
    /// The number of rows appended.
    public private(set) var count = 0
    private(set) var nullCount = 0
    private(set) var validity: Buffer<UInt8>
    private(set) var data: Buffer<UInt8>
    private(set) var words: Buffer<Int64>

    /// Creates an empty builder with room for `capacity` rows.
    public init(type: LogicalType, capacity: Int = 0) {
        self.type = type
        declaredType = type
        (validity, data, words) = Self.makeBuffers(type: type, capacity: capacity)
    }

    private static func makeBuffers(type: LogicalType, capacity: Int) -> (Buffer<UInt8>, Buffer<UInt8>, Buffer<Int64>) {
        let validity = Buffer<UInt8>(capacity: (capacity + 7) / 8)
        switch type {
        case .bool:
            return (validity, Buffer(capacity: capacity), Buffer(capacity: 1))
        case .int64, .float64:
            return (validity, Buffer(capacity: 1), Buffer(capacity: capacity))
        default:
            let offsets = Buffer<Int64>(capacity: capacity + 1)
            offsets.append(0)
            return (validity, Buffer(capacity: capacity * 4), offsets)
        }
    }

    /// Copies the buffers when this builder shares them with a copy of itself (value semantics).
    @inline(__always)
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&validity) { validity = validity.copy() }
        if !isKnownUniquelyReferenced(&data) { data = data.copy() }
        if !isKnownUniquelyReferenced(&words) { words = words.copy() }
    }

    /// Appends a null.
    public mutating func appendNull() {
        makeUnique()
        validity.appendBit(false, row: count)
        switch type {
        case .bool: data.append(0)
        case .int64, .float64: words.append(0)
        default: words.append(Int64(data.count))
        }
        count += 1
        nullCount += 1
    }

    /// Appends a boolean (1 or 0 in a numeric column; `true`/`false` text in any other).
    public mutating func append(_ value: Bool) {
        switch type {
        case .bool:
            makeUnique()
            validity.appendBit(true, row: count)
            data.append(value ? 1 : 0)
            count += 1
        case .int64: append(Int64(value ? 1 : 0))
        case .float64: append(value ? 1.0 : 0.0)
        default: appendText(value ? "true" : "false")
        }
    }

    /// Appends an integer (converted in a float64 column, as digits in a decimal column).
    public mutating func append(_ value: Int64) {
        switch type {
        case .int64:
            makeUnique()
            validity.appendBit(true, row: count)
            words.append(value)
            count += 1
        case .float64: append(Double(value))
        case .decimal, .text:
            makeUnique()
            validity.appendBit(true, row: count)
            Formatting.appendInt(value, to: data)
            words.append(Int64(data.count))
            count += 1
        default: appendText(String(value))
        }
    }

    /// Appends a floating-point number (widening an int64 column to float64).
    public mutating func append(_ value: Double) {
        switch type {
        case .float64:
            makeUnique()
            validity.appendBit(true, row: count)
            words.append(Int64(bitPattern: value.bitPattern))
            count += 1
        case .int64:
            widenToFloat()
            append(value)
        default: appendText(value.description)
        }
    }

    /// Appends bytes as they are: UTF-8 text in a textual column, raw bytes in a bytes column; in
    /// any other column they are taken as UTF-8 text and the column becomes `.text`.
    public mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        if !type.isByteBacked { widenToText() }
        makeUnique()
        validity.appendBit(true, row: count)
        if let base = bytes.baseAddress {
            data.append(base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        }
        words.append(Int64(data.count))
        count += 1
    }

    /// Appends text, keeping the column's type when it is textual (a decimal column stays decimal).
    public mutating func append(string: String) {
        if !type.isTextual { widenToText() }
        var string = string
        string.withUTF8 { appendBytes(UnsafeRawBufferPointer($0)) }
    }

    /// Appends any value, widening the column when the value does not fit (see the type's summary).
    public mutating func append(_ value: Value) {
        switch value {
        case .null: appendNull()
        case .bool(let flag): append(flag)
        case .int64(let number): append(number)
        case .float64(let number): append(number)
        case .text(let text, let textType):
            if type != textType { widenToText() }
            append(string: text)
        case .bytes(let bytes):
            if type == .bytes {
                bytes.withUnsafeBytes { appendBytes($0) }
            } else {
                let output = Buffer<UInt8>()
                bytes.withUnsafeBytes { Formatting.appendHex($0, to: output) }
                appendBytesAsText(UnsafeRawBufferPointer(start: output.base, count: output.count))
            }
        }
    }

    /// Hands the rows over as a column and empties the builder, back to its declared type.
    public mutating func finish() -> Column {
        let column = Column(type: type, count: count, nullCount: nullCount, validity: validity, data: data, words: words)
        let capacity = count
        type = declaredType
        (validity, data, words) = Self.makeBuffers(type: type, capacity: capacity)
        count = 0
        nullCount = 0
        return column
    }

    /// Appends text to a column that becomes `.text` unless it already is textual.
    private mutating func appendText(_ text: String) {
        if type != .text { widenToText() }
        append(string: text)
    }

    private mutating func appendBytesAsText(_ bytes: UnsafeRawBufferPointer) {
        if type != .text { widenToText() }
        appendBytes(bytes)
    }

    /// Turns an int64 column into float64, converting the values appended so far.
    private mutating func widenToFloat() {
        makeUnique()
        for row in 0..<count {
            words[row] = Int64(bitPattern: Double(words[row]).bitPattern)
        }
        type = .float64
    }

    /// Turns the column into `.text`, rewriting the values appended so far in their text form.
    private mutating func widenToText() {
        if type == .text { return }
        if type.isTextual {
            type = .text
            return
        }
        makeUnique()
        let column = Column(type: type, count: count, nullCount: nullCount, validity: validity, data: data, words: words)
        let newData = Buffer<UInt8>(capacity: count * 8)
        let newOffsets = Buffer<Int64>(capacity: count + 1)
        newOffsets.append(0)
        for row in 0..<count {
            if !column.isNull(row) {
                switch type {
                case .bool:
                    let text: StaticString = column.bool(row) ? "true" : "false"
                    newData.append(text.utf8Start, count: text.utf8CodeUnitCount)
                case .int64: Formatting.appendInt(column.int64(row), to: newData)
                case .float64: Formatting.appendDouble(column.float64(row), to: newData)
                default: column.withBytes(row) { Formatting.appendHex($0, to: newData) }
                }
            }
            newOffsets.append(Int64(newData.count))
        }
        data = newData
        words = newOffsets
        type = .text
    }
}
