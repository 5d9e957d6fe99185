import OsirisCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which CSV fields are quoted.
public enum CSVQuoting: String, Sendable {
    /// Only fields that need it: those holding the delimiter, the quote, `\r` or `\n`, and the
    /// empty string (written `""`, so it stays apart from null, which is written as nothing).
    case minimal
    /// Every non-null field.
    case all
    /// Every non-null field that is not a number (int64, float64 and decimal stay unquoted).
    case nonnumeric
}

/// The line break written after each record.
public enum Newline: String, Sendable {
    /// `\n`.
    case lf
    /// `\r\n`.
    case crlf
}

/// How to write CSV (the `filesystem.csv_writer` config maps onto these).
public struct CSVWriteOptions: Sendable {
    /// The field separator.
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// The quote character; doubled inside quoted fields.
    public var quote: UInt8 = UInt8(ascii: "\"")
    /// Which fields are quoted.
    public var quoting: CSVQuoting = .minimal
    /// The line break after each record (line breaks inside values are written as they are).
    public var newline: Newline = .lf
    /// Whether the first record names the columns.
    public var header: Bool = true
    /// The output encoding; only UTF-8 (`utf-8` or `utf8`, any case) is supported.
    public var encoding: String = "utf-8"

    /// Default options: comma-separated, minimal quoting, `\n`, a header.
    public init() {}
}

/// Writes record batches as CSV (RFC 4180) to a file descriptor, buffering about 1 MiB at a time.
///
/// Values are written in their text form: `true`/`false`, integers in decimal, floats in Swift's
/// shortest round-trip form (`1.0`, `1e-05`, `inf`, `nan`), textual types as their text, bytes as
/// `\x` and lowercase hexadecimal. Null is written as nothing and the empty string as `""`, so both
/// read back as they were. The header is written with the first batch, or by `finish()` when there
/// is none.
public final class CSVWriter {
    private let output: OutputBuffer
    private let options: CSVWriteOptions
    private let fieldCount: Int
    /// Whether numbers and booleans can be written without a quoting check: neither the delimiter nor
    /// the quote can appear in their text.
    private let plainNumbers: Bool
    private let stops: UnsafeMutablePointer<UInt8>

    /// Bytes handed to the descriptor so far.
    public var bytesWritten: Int { output.bytesWritten }

    /// Prepares to write `schema`'s columns to `descriptor` (which is not closed by the writer).
    public init(descriptor: Int32, schema: Schema, options: CSVWriteOptions) throws(DataError) {
        if !isUTF8(options.encoding) { throw unsupportedEncoding(options.encoding, reading: false) }
        let delimiter = options.delimiter
        let quote = options.quote
        if delimiter == quote || delimiter == UInt8(ascii: "\n") || delimiter == UInt8(ascii: "\r")
            || quote == UInt8(ascii: "\n") || quote == UInt8(ascii: "\r") {
            throw DataError(.unsupported, "the delimiter and the quote must be different and not line breaks")
        }
        output = OutputBuffer(descriptor: descriptor)
        self.options = options
        fieldCount = schema.fields.count
        let numberBytes = Set("0123456789abcdefilnrstuxABCDEFILNRSTUX+-.\\".utf8)
        plainNumbers = !numberBytes.contains(delimiter) && !numberBytes.contains(quote)
        stops = .allocate(capacity: 256)
        stops.initialize(repeating: 0, count: 256)
        for byte in [delimiter, quote, UInt8(ascii: "\n"), UInt8(ascii: "\r")] { stops[Int(byte)] = 1 }
        if options.header {
            for (index, field) in schema.fields.enumerated() {
                if index > 0 { output.bytes.append(delimiter) }
                var name = field.name
                name.withUTF8 { appendText($0.baseAddress, $0.count, quoted: options.quoting != .minimal, scan: true) }
            }
            appendNewline()
        }
    }

    deinit { stops.deallocate() }

    /// A column prepared for writing: raw pointers (the batch keeps them alive) and quoting decisions.
    private struct Plan {
        enum Kind { case bool, int64, float64, text, hex }
        var kind: Kind
        var quoted: Bool
        /// Whether a value may hold a byte that forces quoting (or, when quoted, a quote to double).
        var scan: Bool
        var hasNulls: Bool
        var validity: UnsafePointer<UInt8>
        var data: UnsafePointer<UInt8>
        var words: UnsafePointer<Int64>
    }

    private func plan(_ column: Column) -> Plan {
        let kind: Plan.Kind = switch column.type {
        case .bool: .bool
        case .int64: .int64
        case .float64: .float64
        case .bytes: .hex
        default: .text
        }
        let quoted = switch options.quoting {
        case .minimal: false
        case .all: true
        case .nonnumeric: !column.type.isNumeric
        }
        var scan = false
        if kind == .text, column.data.count > 0 {
            let data = UnsafeRawPointer(column.data.base)
            let count = column.data.count
            scan = memchr(data, Int32(options.quote), count) != nil
            if !quoted {
                scan = scan || memchr(data, Int32(options.delimiter), count) != nil
                    || memchr(data, Int32(UInt8(ascii: "\n")), count) != nil
                    || memchr(data, Int32(UInt8(ascii: "\r")), count) != nil
            }
        }
        return Plan(kind: kind, quoted: quoted, scan: scan, hasNulls: column.nullCount > 0,
                    validity: UnsafePointer(column.validity.base), data: UnsafePointer(column.data.base),
                    words: UnsafePointer(column.words.base))
    }

    /// Appends the batch's rows.
    public func write(_ batch: RecordBatch) throws(DataError) {
        precondition(batch.columns.count == fieldCount, "the batch has \(batch.columns.count) columns, the writer \(fieldCount)")
        let plans = UnsafeMutablePointer<Plan>.allocate(capacity: max(fieldCount, 1))
        defer { plans.deallocate() }
        for (index, column) in batch.columns.enumerated() { (plans + index).initialize(to: plan(column)) }
        let delimiter = options.delimiter
        let out = output.bytes
        let plainNumbers = plainNumbers
        let scratch = Buffer<UInt8>(capacity: 64)
        for row in 0..<batch.count {
            for index in 0..<fieldCount {
                if index > 0 { out.append(delimiter) }
                let plan = plans[index]
                if plan.hasNulls, plan.validity[row &>> 3] & (1 &<< UInt8(truncatingIfNeeded: row & 7)) == 0 { continue }
                switch plan.kind {
                case .text:
                    let start = Int(plan.words[row])
                    let length = Int(plan.words[row &+ 1]) &- start
                    appendText(plan.data + start, length, quoted: plan.quoted, scan: plan.scan)
                case .int64 where plainNumbers && !plan.quoted:
                    Formatting.appendInt(plan.words[row], to: out)
                case .float64 where plainNumbers && !plan.quoted:
                    Formatting.appendDouble(Double(bitPattern: UInt64(bitPattern: plan.words[row])), to: out)
                default:
                    // Numbers quoted, booleans and hex: formatted aside, then quoted as text.
                    scratch.count = 0
                    switch plan.kind {
                    case .bool:
                        let text: StaticString = plan.data[row] != 0 ? "true" : "false"
                        scratch.append(text.utf8Start, count: text.utf8CodeUnitCount)
                    case .int64:
                        Formatting.appendInt(plan.words[row], to: scratch)
                    case .float64:
                        Formatting.appendDouble(Double(bitPattern: UInt64(bitPattern: plan.words[row])), to: scratch)
                    default:
                        let start = Int(plan.words[row])
                        let length = Int(plan.words[row &+ 1]) &- start
                        Formatting.appendHex(UnsafeRawBufferPointer(start: plan.data + start, count: length), to: scratch)
                    }
                    appendText(scratch.base, scratch.count, quoted: plan.quoted, scan: !plainNumbers)
                }
            }
            appendNewline()
            if out.count >= OutputBuffer.flushThreshold { try output.flush() }
        }
    }

    /// Writes out everything buffered (the header too, when no batch came); the descriptor stays open.
    public func finish() throws(DataError) {
        try output.flush()
    }

    @inline(__always)
    private func appendNewline() {
        if options.newline == .crlf { output.bytes.append(UInt8(ascii: "\r")) }
        output.bytes.append(UInt8(ascii: "\n"))
    }

    /// Appends one non-null text field: quoted when asked, when empty, or (with `scan`) when it holds
    /// the delimiter, the quote or a line break; quotes inside are doubled.
    @inline(__always)
    private func appendText(_ pointer: UnsafePointer<UInt8>?, _ length: Int, quoted: Bool, scan: Bool) {
        let out = output.bytes
        guard let pointer, length > 0 else {
            out.reserve(2)
            out.append(options.quote)
            out.append(options.quote)
            return
        }
        var mustQuote = quoted
        if scan && !quoted {
            var index = 0
            while index < length, stops[Int(pointer[index])] == 0 { index &+= 1 }
            mustQuote = index < length
        }
        if !mustQuote {
            out.append(pointer, count: length)
            return
        }
        let quote = options.quote
        out.reserve(length &* 2 &+ 2)
        var destination = out.base + out.count
        destination.pointee = quote
        destination += 1
        if scan {
            for index in 0..<length {
                let byte = pointer[index]
                destination.pointee = byte
                destination += 1
                if byte == quote {
                    destination.pointee = quote
                    destination += 1
                }
            }
        } else {
            destination.update(from: pointer, count: length)
            destination += length
        }
        destination.pointee = quote
        destination += 1
        out.count = destination - out.base
    }
}
