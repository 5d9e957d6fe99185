import OsirisData

/// Writes record batches in PostgreSQL's COPY text format, for `COPY ... FROM STDIN`: one line per
/// row, fields separated by tabs, `\N` for null, backslash, tab, newline and carriage return escaped
/// in text; bool as `t`/`f`, integers and floats as digits (`Infinity`, `-Infinity`, `NaN` for the
/// special floats), bytes as bytea hex (`\\x0aff`: the backslash itself escaped), every other type
/// (decimal, date, time, timestamp, timestamptz, json, uuid, text) as its text. The server parses
/// each field as its column's type, so text that type rejects fails the COPY.
///
/// Rows collect in one buffer, handed out in chunks of about a mebibyte, so each `PQputCopyData`
/// call carries many rows and memory stays flat.
final class PostgreSQLCopyEncoder {
    /// About how many bytes collect before they are handed out.
    static let chunkSize = 1 << 20

    private let buffer = Buffer<UInt8>(capacity: chunkSize + 65_536)
    /// When set, each row gets one more field, this number, which then goes up by one: the rows'
    /// input order, for the upsert's "last row wins".
    var ordinal: Int64?

    /// An empty encoder.
    init() {}

    /// Encodes every row of `batch`, handing full chunks to `flush` on the way; what is left stays
    /// for the next batch or `finish`.
    func encode(_ batch: RecordBatch, flush: (UnsafeRawBufferPointer) throws(StepError) -> Void) throws(StepError) {
        let views = batch.columns.map(\.unsafeView)
        try withExtendedLifetime(batch) { () throws(StepError) in
            for row in 0..<batch.count {
                for (index, view) in views.enumerated() {
                    if index > 0 { buffer.append(0x09) }
                    appendValue(view, row)
                }
                if let number = ordinal {
                    buffer.append(0x09)
                    Formatting.appendInt(number, to: buffer)
                    ordinal = number + 1
                }
                buffer.append(0x0A)
                if buffer.count >= Self.chunkSize { try finish(flush) }
            }
        }
    }

    /// Hands what is left to `flush` and empties the buffer.
    func finish(_ flush: (UnsafeRawBufferPointer) throws(StepError) -> Void) throws(StepError) {
        guard buffer.count > 0 else { return }
        let bytes = buffer.bytes
        buffer.count = 0
        try flush(bytes)
    }

    @inline(__always)
    private func appendValue(_ view: UnsafeColumnView, _ row: Int) {
        if view.isNull(row) {
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(UInt8(ascii: "N"))
            return
        }
        switch view.type {
        case .bool: buffer.append(view.bool(row) ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case .int64: Formatting.appendInt(view.int64(row), to: buffer)
        case .float64: appendFloat(view.float64(row))
        case .bytes: appendHex(view.bytes(row))
        default: appendEscaped(view.bytes(row))
        }
    }

    /// Text with COPY's escapes: a value holding none is copied in one go.
    @inline(__always)
    private func appendEscaped(_ bytes: UnsafeRawBufferPointer) {
        let length = bytes.count
        buffer.reserve(length * 2)
        guard length > 0 else { return }
        let source = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var output = buffer.base + buffer.count
        for index in 0..<length {
            let byte = source[index]
            if byte > UInt8(ascii: "\\") || (byte != UInt8(ascii: "\\") && byte > 0x0D) {
                output.pointee = byte
                output += 1
                continue
            }
            let escape: UInt8
            switch byte {
            case UInt8(ascii: "\\"): escape = UInt8(ascii: "\\")
            case 0x09: escape = UInt8(ascii: "t")
            case 0x0A: escape = UInt8(ascii: "n")
            case 0x0D: escape = UInt8(ascii: "r")
            default:
                output.pointee = byte
                output += 1
                continue
            }
            output[0] = UInt8(ascii: "\\")
            output[1] = escape
            output += 2
        }
        buffer.count = output - buffer.base
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// bytea's hex form, its backslash escaped for COPY: `\\x0aff`.
    @inline(__always)
    private func appendHex(_ bytes: UnsafeRawBufferPointer) {
        buffer.reserve(3 + bytes.count * 2)
        var output = buffer.base + buffer.count
        output[0] = UInt8(ascii: "\\")
        output[1] = UInt8(ascii: "\\")
        output[2] = UInt8(ascii: "x")
        output += 3
        let digits = Self.hexDigits.utf8Start
        for byte in bytes {
            output[0] = digits[Int(byte >> 4)]
            output[1] = digits[Int(byte & 0xF)]
            output += 2
        }
        buffer.count = output - buffer.base
    }

    /// Swift's shortest round-trip text, which PostgreSQL reads back to the same double; the
    /// special values in PostgreSQL's spelling.
    private func appendFloat(_ value: Double) {
        var text: String
        if value.isNaN {
            text = "NaN"
        } else if value.isInfinite {
            text = value < 0 ? "-Infinity" : "Infinity"
        } else {
            text = value.description
        }
        buffer.append(text)
    }
}

extension PostgreSQLConnection {
    /// Streams every batch of `input` into `COPY destination FROM STDIN` (`destination` is the
    /// quoted table and its column list), reporting each batch as read; returns the rows and bytes.
    /// With `ordinal`, each row carries its input position as one more, last field.
    func copyIn(_ input: any BatchSource, into destination: String, ordinal: Bool, context: StepContext) throws(StepError) -> (Int, Int) {
        let encoder = PostgreSQLCopyEncoder()
        if ordinal { encoder.ordinal = 1 }
        var rows = 0
        var bytes = 0
        try copyIn("COPY \(destination) FROM STDIN") { send throws(StepError) in
            while let batch = try input.next() {
                try context.cancellation.check()
                try encoder.encode(batch, flush: send)
                rows += batch.count
                bytes += batch.dataByteCount
                context.progress.read(rows: batch.count, bytes: batch.dataByteCount)
            }
            try encoder.finish(send)
        }
        return (rows, bytes)
    }
}
