import OsirisCore

/// Writes record batches as JSON lines to a file descriptor, buffering about 1 MiB at a time.
///
/// One object per row, keys being the column names in column order, UTF-8:
///
///     {"id":1,"price":12.50,"name":"Zoë","paid":true,"at":"2024-05-01 13:45:00","doc":{"a":[1,2]},"raw":"\\x00ff","note":null}
///
/// Null is `null`; bool is `true`/`false`; int64 is a number; float64 is a number in Swift's
/// shortest round-trip form (`null` when infinite or NaN); decimal is a number written with its
/// exact text (a string when the text is not a JSON number, such as `NaN`); json is embedded as it
/// is when it is valid JSON (line breaks between tokens turned into spaces), otherwise a string;
/// bytes are the string `\x` plus lowercase hexadecimal; every other type is a string. Invalid
/// UTF-8 in text becomes U+FFFD.
public final class JSONLinesWriter {
    private let output: OutputBuffer
    private let fieldCount: Int
    /// Per column, `{"name":` or `,"name":`, one after another.
    private let keys: Buffer<UInt8>
    /// Where each column's key starts in `keys` (`fieldCount + 1` entries).
    private let keyOffsets: [Int]

    /// Bytes handed to the descriptor so far.
    public var bytesWritten: Int { output.bytesWritten }

    /// Whether lines end with CR LF instead of LF.
    private let crlf: Bool

    /// Prepares to write `schema`'s columns to `descriptor` (which is not closed by the writer);
    /// lines end with `newline`.
    public init(descriptor: Int32, schema: Schema, newline: Newline = .lf) {
        crlf = newline == .crlf
        output = OutputBuffer(descriptor: descriptor)
        fieldCount = schema.fields.count
        var bytes: [UInt8] = []
        var offsets = [0]
        for (index, field) in schema.fields.enumerated() {
            bytes.append(index == 0 ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONWriter.appendString(field.name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            offsets.append(bytes.count)
        }
        let keys = Buffer<UInt8>(capacity: bytes.count)
        bytes.withUnsafeBufferPointer { keys.append($0.baseAddress!, count: $0.count) }
        self.keys = keys
        keyOffsets = offsets
    }

    /// A column prepared for writing: raw pointers (the batch keeps them alive).
    private struct Plan {
        var type: LogicalType
        var hasNulls: Bool
        var validity: UnsafePointer<UInt8>
        var data: UnsafePointer<UInt8>
        var words: UnsafePointer<Int64>
        var key: UnsafePointer<UInt8>
        var keyLength: Int
    }

    /// Appends one line per row of the batch.
    public func write(_ batch: RecordBatch) throws(DataError) {
        precondition(batch.columns.count == fieldCount, "the batch has \(batch.columns.count) columns, the writer \(fieldCount)")
        let plans = UnsafeMutablePointer<Plan>.allocate(capacity: max(fieldCount, 1))
        defer { plans.deallocate() }
        for (index, column) in batch.columns.enumerated() {
            (plans + index).initialize(to: Plan(
                type: column.type, hasNulls: column.nullCount > 0, validity: UnsafePointer(column.validity.base),
                data: UnsafePointer(column.data.base), words: UnsafePointer(column.words.base),
                key: UnsafePointer(keys.base + keyOffsets[index]), keyLength: keyOffsets[index + 1] - keyOffsets[index]))
        }
        let out = output.bytes
        for row in 0..<batch.count {
            if fieldCount == 0 { out.append(UInt8(ascii: "{")) }
            for index in 0..<fieldCount {
                let plan = plans[index]
                out.append(plan.key, count: plan.keyLength)
                if plan.hasNulls, plan.validity[row &>> 3] & (1 &<< UInt8(truncatingIfNeeded: row & 7)) == 0 {
                    appendStatic("null", to: out)
                    continue
                }
                switch plan.type {
                case .bool:
                    appendStatic(plan.data[row] != 0 ? "true" : "false", to: out)
                case .int64:
                    Formatting.appendInt(plan.words[row], to: out)
                case .float64:
                    let value = Double(bitPattern: UInt64(bitPattern: plan.words[row]))
                    if value.isFinite { Formatting.appendDouble(value, to: out) } else { appendStatic("null", to: out) }
                default:
                    let start = Int(plan.words[row])
                    appendBytes(plan.type, plan.data + start, Int(plan.words[row &+ 1]) &- start, to: out)
                }
            }
            out.append(UInt8(ascii: "}"))
            if crlf { out.append(UInt8(ascii: "\r")) }
            out.append(UInt8(ascii: "\n"))
            if out.count >= OutputBuffer.flushThreshold { try output.flush() }
        }
    }

    /// Writes out everything buffered; the descriptor stays open.
    public func finish() throws(DataError) {
        try output.flush()
    }

    @inline(__always)
    private func appendStatic(_ text: StaticString, to out: Buffer<UInt8>) {
        out.append(text.utf8Start, count: text.utf8CodeUnitCount)
    }

    /// Appends a non-null value of a byte-backed type.
    @inline(__always)
    private func appendBytes(_ type: LogicalType, _ pointer: UnsafePointer<UInt8>, _ count: Int, to out: Buffer<UInt8>) {
        switch type {
        case .bytes:
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: "\\"))
            Formatting.appendHex(UnsafeRawBufferPointer(start: pointer, count: count), to: out)
            out.append(UInt8(ascii: "\""))
        case .decimal where Self.isJSONNumber(pointer, count):
            out.append(pointer, count: count)
        case .json:
            let bytes = Array(UnsafeBufferPointer(start: pointer, count: count))
            if (try? JSONParser.parse(bytes)) != nil {
                // A line break in valid JSON can only be white space between tokens.
                out.reserve(count)
                for byte in bytes {
                    out.append(byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") ? UInt8(ascii: " ") : byte)
                }
            } else {
                Self.appendString(pointer, count, to: out)
            }
        default:
            Self.appendString(pointer, count, to: out)
        }
    }

    /// Whether the bytes are valid UTF-8 with nothing JSON escapes (controls, DEL, quote, backslash).
    static func isPlainUTF8(_ pointer: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var index = 0
        @inline(__always) func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            index + offset < count && pointer[index + offset] >= low && pointer[index + offset] <= high
        }
        while index < count {
            let byte = pointer[index]
            if byte < 0x80 {
                if byte < 0x20 || byte == 0x7f || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
                index &+= 1
                continue
            }
            switch byte {
            case 0xC2...0xDF:
                guard continuation(1) else { return false }
                index += 2
            case 0xE0:
                guard continuation(1, 0xA0), continuation(2) else { return false }
                index += 3
            case 0xE1...0xEC, 0xEE, 0xEF:
                guard continuation(1), continuation(2) else { return false }
                index += 3
            case 0xED:
                guard continuation(1, 0x80, 0x9F), continuation(2) else { return false }
                index += 3
            case 0xF0:
                guard continuation(1, 0x90), continuation(2), continuation(3) else { return false }
                index += 4
            case 0xF1...0xF3:
                guard continuation(1), continuation(2), continuation(3) else { return false }
                index += 4
            case 0xF4:
                guard continuation(1, 0x80, 0x8F), continuation(2), continuation(3) else { return false }
                index += 4
            default:
                return false
            }
        }
        return true
    }

    /// Appends bytes as a JSON string: valid UTF-8 needing no escapes is copied, anything else goes through
    /// `JSONWriter.appendString` (invalid UTF-8 becoming U+FFFD).
    static func appendString(_ pointer: UnsafePointer<UInt8>, _ count: Int, to out: Buffer<UInt8>) {
        if isPlainUTF8(pointer, count) {
            out.reserve(count + 2)
            out.append(UInt8(ascii: "\""))
            out.append(pointer, count: count)
            out.append(UInt8(ascii: "\""))
            return
        }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(count + 8)
        JSONWriter.appendString(String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self), to: &escaped)
        escaped.withUnsafeBufferPointer { out.append($0.baseAddress!, count: $0.count) }
    }

    /// Whether the text is a JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    static func isJSONNumber(_ pointer: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var index = 0
        if index < count, pointer[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        while index < count, TypeInference.isDigit(pointer[index]) { index += 1 }
        let integerDigits = index - integerStart
        if integerDigits == 0 || (integerDigits > 1 && pointer[integerStart] == UInt8(ascii: "0")) { return false }
        if index < count, pointer[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < count, TypeInference.isDigit(pointer[index]) { index += 1 }
            if index == start { return false }
        }
        if index < count, pointer[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < count, pointer[index] == UInt8(ascii: "+") || pointer[index] == UInt8(ascii: "-") { index += 1 }
            let start = index
            while index < count, TypeInference.isDigit(pointer[index]) { index += 1 }
            if index == start { return false }
        }
        return index == count
    }
}
