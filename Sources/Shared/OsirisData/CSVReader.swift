import OsirisCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How to read a CSV file (the `filesystem.csv_extractor` config maps onto these).
public struct CSVReadOptions: Sendable {
    /// The field separator.
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// The quote character; inside quotes it is doubled.
    public var quote: UInt8 = UInt8(ascii: "\"")
    /// Whether a header record names the columns; without one they are `column_1`, `column_2`, ...
    public var header: Bool = true
    /// Which record (after `skipRows`) is the header when `header` is true; records before it are skipped.
    public var headerRow: Int = 0
    /// Records skipped at the start of the file, before anything else.
    public var skipRows: Int = 0
    /// The most data rows to read.
    public var limit: Int? = nil
    /// Field texts read as null, quoted or not.
    public var naValues: Set<String> = []
    /// Whether to infer column types (from every row of a regular file, from the first batch of a
    /// pipe); otherwise every column without a declared type is text.
    public var inferTypes: Bool = true
    /// Declared column types by column name (the extractor's `dtype`): never inferred, and a value
    /// that does not fit is an error naming its line and column.
    public var columnTypes: [String: LogicalType] = [:]
    /// The columns to read, in this order; a name not in the file is an error.
    public var columns: [String]? = nil
    /// The file's encoding; only UTF-8 (`utf-8` or `utf8`, any case) is supported.
    public var encoding: String = "utf-8"
    /// The most rows in one batch.
    public var batchSize: Int = 65_536

    /// Default options: comma-separated, double quotes, a header, types inferred.
    public init() {}
}

/// Streams a CSV file (RFC 4180) as record batches.
///
/// Reading: fields may be quoted, with the quote doubled inside; quoted fields may hold delimiters
/// and line breaks. Records end with `\n`, `\r\n` or a lone `\r`; the last one needs no line
/// break; a UTF-8 byte order mark is skipped. An unquoted empty field is null, a quoted empty field
/// (`""`) is the empty string, and a field whose text is one of `naValues` is null. A record with
/// fewer fields than the header gets nulls for the missing ones; one with more is an error naming
/// the line it starts on. An empty line is skipped, except in a one-column file where it is a null.
/// Header names that are empty become `column_N` (1-based position) and repeated names get `_2`,
/// `_3`, ... suffixes.
///
/// Types: one schema for the whole file, the same in every batch. A column in `columnTypes` has its
/// declared type. With `inferTypes`, every other column gets the narrowest type all its values
/// fit: int64 (`0` or `-?[1-9][0-9]*` fitting 64 bits, so `007` stays text), decimal (integers and
/// `-?(0|[1-9][0-9]*)\.[0-9]+`, kept as exact text, with precision and scale from the digits),
/// float64 (numbers with an exponent, when every value is exactly Swift's shortest form of the
/// number, such as `1e-05`), bool (lowercase `true`/`false`), date (`YYYY-MM-DD`), time
/// (`HH:MM:SS(.fraction)`), timestamp (a date, `T` or space, and a time) and timestamptz (a
/// timestamp with `Z`, `±HH`, `±HHMM` or `±HH:MM`); anything else, and a column with no values, is
/// text. So writing a batch back with `CSVWriter` gives every field's text back byte for byte.
///
/// A regular file is scanned once before the first batch (every row up to `limit`, streamed, not
/// held), so the types fit every value. A pipe cannot be read twice: its types come from the first
/// batch (decimals without a fixed precision), and a later value that does not fit is a
/// `typeMismatch` error naming the line, the column (number and name) and the value; declaring the
/// column's type avoids it. A value that does not fit a declared type is the same error.
public final class CSVReader {
    /// The columns: names from the header (or `column_N`), types declared or inferred; every batch has this schema.
    public let schema: Schema
    private let parser: CSVParser

    /// Opens the file at `path`, reads its header and, when inferring types, scans it (a regular
    /// file) or reads its first batch (a pipe).
    public init(path: String, options: CSVReadOptions) throws(DataError) {
        if !isUTF8(options.encoding) { throw unsupportedEncoding(options.encoding, reading: true) }
        let descriptor = try openForReading(path)
        let fields: [Field]?
        do {
            fields = try Self.scan(descriptor, name: path, options: options)
        } catch {
            closeDescriptor(descriptor)
            throw error
        }
        // The parser owns the descriptor from here on: it closes it even when its initializer throws.
        parser = try CSVParser(descriptor: descriptor, ownsDescriptor: true, name: path, options: options, scannedFields: fields)
        schema = parser.schema
    }

    /// Reads from an open descriptor (not closed by the reader); `name` is used in error messages.
    public init(descriptor: Int32, name: String, options: CSVReadOptions) throws(DataError) {
        if !isUTF8(options.encoding) { throw unsupportedEncoding(options.encoding, reading: true) }
        let fields = try Self.scan(descriptor, name: name, options: options)
        parser = try CSVParser(descriptor: descriptor, ownsDescriptor: false, name: name, options: options, scannedFields: fields)
        schema = parser.schema
    }

    /// The schema of a regular file from a scan of all its rows, with the descriptor put back where
    /// it was; nil when types are not inferred or the input cannot be read twice.
    private static func scan(_ descriptor: Int32, name: String, options: CSVReadOptions) throws(DataError) -> [Field]? {
        guard options.inferTypes, isRegularFile(descriptor) else { return nil }
        let start = lseek(descriptor, 0, SEEK_CUR)
        guard start >= 0 else { return nil }
        let scanner = try CSVParser(descriptor: descriptor, ownsDescriptor: false, name: name, options: options, scanning: true)
        defer { scanner.close() }
        let fields = try scanner.scanFields()
        guard lseek(descriptor, start, SEEK_SET) == start else {
            throw DataError(.io, "cannot read the file again after scanning its types: \(systemMessage(errno))", path: name)
        }
        return fields
    }

    /// The next batch, or nil at the end of the file (or once `limit` rows were read).
    public func next() throws(DataError) -> RecordBatch? { try parser.next() }

    /// Bytes read from the file so far (the type scan not included).
    public var bytesRead: Int { parser.bytesRead }

    /// Data rows handed out in batches so far (the first batch counts once it is read).
    public var rowsRead: Int { parser.rowsRead }

    /// Releases the buffers and closes the file if the reader opened it.
    public func close() { parser.close() }
}

/// Where one field lies in the input buffer.
struct FieldSpan {
    var start: Int
    var end: Int
    /// Bit 0: the field was quoted; bit 1: it holds doubled quotes.
    var flags: UInt8
}

/// One output column being filled for the current batch: raw text bytes with offsets and validity.
struct RawColumn {
    var data: UnsafeMutablePointer<UInt8>
    var dataCount: Int
    var dataCapacity: Int
    var offsets: UnsafeMutablePointer<Int64>
    var validity: UnsafeMutablePointer<UInt8>
    var nullCount: Int

    @inline(never)
    mutating func growData(minimum: Int) {
        let newCapacity = max(minimum, dataCapacity * 2)
        let newData = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newData.update(from: data, count: dataCount)
        data.deallocate()
        data = newData
        dataCapacity = newCapacity
    }
}

/// The CSV tokenizer and batch assembler behind `CSVReader`.
///
/// The input is read with read(2) into a buffer of 1 MiB (grown only for a record larger than it);
/// records are split into field spans in one pass over the bytes, and each field's bytes are copied
/// straight into its column's buffer. A record cut by the end of the buffer is parsed again after
/// the buffer is refilled.
final class CSVParser {
    private(set) var schema = Schema([])
    private(set) var bytesRead = 0
    private(set) var rowsRead = 0

    private let name: String
    private var descriptor: Int32
    private let ownsDescriptor: Bool
    private let delimiter: UInt8
    private let quote: UInt8
    private let batchSize: Int
    private var remaining: Int

    private var input: UnsafeMutablePointer<UInt8>
    private var inputCapacity: Int
    private var position = 0
    private var end = 0
    private var atEnd = false
    private var line = 1
    private var recordLine = 1
    private var recordStart = 0
    private let stops: UnsafeMutablePointer<UInt8>
    private var spans: UnsafeMutablePointer<FieldSpan>
    private var spanCapacity = 64

    /// Fields per record in the file.
    private var fileFieldCount = 0
    /// For each field of the file, its output column or -1.
    private var targets: [Int] = []
    private var targetPointer = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private var fields: [Field] = []
    private var dataCapacityHints: [Int] = []
    private let naValues: [[UInt8]]
    private var naLengths: UInt64 = 0
    /// The first batch's raw columns, read to infer a pipe's types, handed out first.
    private var pending: [Column]?
    private var exhausted = false
    private var closed = false
    /// Whether the schema was inferred from the first batch only (a pipe), not from every row.
    private var inferredFromFirstBatch = false
    /// For each output column, whether `columnTypes` declares its type.
    private var declared: [Bool] = []
    /// For each output column, its 1-based position in the file, for messages.
    private var fileColumnNumbers: [Int] = []
    /// The line each row of the current batch starts on, for messages.
    private var rowLines: UnsafeMutablePointer<Int>
    /// While the type scan's first half runs: `bytesRead` at which it stops (the split).
    private var readCap: Int?
    /// Set when the first half ends exactly at the split, on a record boundary.
    private var reachedSplit = false
    /// Set when a record crosses the split (a quoted line break): the first half then reads on to the end.
    private var splitFailed = false
    /// For the type scan's second half: the file offset read next with pread(2).
    private var readOffset: Int64?

    /// `bufferSize` is the read size; tests make it tiny so records straddle refills everywhere.
    /// `scannedFields` are the types a scan found (the reader then infers nothing); `scanning` makes
    /// a parser that only reads the header, for `scanFields()`.
    init(
        descriptor: Int32, ownsDescriptor: Bool, name: String, options: CSVReadOptions, bufferSize: Int = 1 << 20,
        scannedFields: [Field]? = nil, scanning: Bool = false
    ) throws(DataError) {
        self.descriptor = descriptor
        inputCapacity = max(1, bufferSize)
        self.ownsDescriptor = ownsDescriptor
        self.name = name
        delimiter = options.delimiter
        quote = options.quote
        batchSize = max(1, options.batchSize)
        remaining = max(0, options.limit ?? Int.max)
        naValues = options.naValues.sorted().map { Array($0.utf8) }
        for value in naValues { naLengths |= 1 << UInt64(min(value.count, 63)) }
        input = .allocate(capacity: inputCapacity)
        stops = .allocate(capacity: 256)
        stops.initialize(repeating: 0, count: 256)
        stops[Int(delimiter)] = 1
        stops[Int(UInt8(ascii: "\n"))] = 1
        stops[Int(UInt8(ascii: "\r"))] = 1
        spans = .allocate(capacity: spanCapacity)
        rowLines = .allocate(capacity: batchSize)

        if delimiter == quote || delimiter == UInt8(ascii: "\n") || delimiter == UInt8(ascii: "\r")
            || quote == UInt8(ascii: "\n") || quote == UInt8(ascii: "\r") {
            throw DataError(.unsupported, "the delimiter and the quote must be different and not line breaks", path: name)
        }
        if options.skipRows < 0 || options.headerRow < 0 || (options.limit ?? 0) < 0 {
            throw DataError(.unsupported, "skip_rows, header_row and limit cannot be negative", path: name)
        }
        try start(options, scannedFields: scannedFields, scanning: scanning)
    }

    /// A parser for the type scan's second half: `first`'s columns and settings, reading `first`'s
    /// file from `offset` (a record boundary, unless the first half finds otherwise) to its end.
    private init(secondHalfOf first: CSVParser, from offset: Int64) {
        descriptor = first.descriptor
        ownsDescriptor = false
        name = first.name
        delimiter = first.delimiter
        quote = first.quote
        batchSize = first.batchSize
        remaining = first.remaining
        naValues = first.naValues
        naLengths = first.naLengths
        inputCapacity = first.inputCapacity
        input = .allocate(capacity: inputCapacity)
        stops = .allocate(capacity: 256)
        stops.update(from: first.stops, count: 256)
        spans = .allocate(capacity: spanCapacity)
        rowLines = .allocate(capacity: 1)
        fileFieldCount = first.fileFieldCount
        targets = first.targets
        targetPointer.deallocate()
        targetPointer = .allocate(capacity: max(targets.count, 1))
        targetPointer.initialize(from: targets, count: targets.count)
        fields = first.fields
        declared = first.declared
        fileColumnNumbers = first.fileColumnNumbers
        readOffset = offset
    }

    deinit { release() }

    private func release() {
        if closed { return }
        closed = true
        input.deallocate()
        stops.deallocate()
        spans.deallocate()
        targetPointer.deallocate()
        rowLines.deallocate()
        if ownsDescriptor { closeDescriptor(descriptor) }
    }

    func close() { release() }

    // MARK: Header and schema

    private func start(_ options: CSVReadOptions, scannedFields: [Field]?, scanning: Bool) throws(DataError) {
        try refill()
        if end >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF { position = 3 }
        for _ in 0..<(options.skipRows + (options.header ? options.headerRow : 0)) {
            if try parseRecord() == nil { break }
        }
        var names: [String] = []
        if options.header {
            while let count = try parseRecord() {
                if count == 1, spans[0].start == spans[0].end, spans[0].flags == 0 { continue }
                names = (0..<count).map { String(decoding: fieldBytes($0), as: UTF8.self) }
                break
            }
        } else if let count = try parseRecord() {
            names = (0..<count).map { "column_\($0 + 1)" }
            position = recordStart
            line = recordLine
        }
        names = Self.uniqueNames(names)
        fileFieldCount = names.count

        targets = Array(0..<names.count)
        var selected = names
        if let wanted = options.columns {
            targets = Array(repeating: -1, count: names.count)
            for (output, column) in wanted.enumerated() {
                guard let index = names.firstIndex(of: column) else {
                    throw DataError(.notFound, Self.missingColumnMessage(column, names: names), path: name)
                }
                if targets[index] >= 0 {
                    throw DataError(.unsupported, "column '\(column)' is selected twice", path: name)
                }
                targets[index] = output
            }
            selected = wanted
        }
        for name in options.columnTypes.keys.sorted() where !selected.contains(name) {
            let place = options.columns == nil ? "in the file" : "among the selected columns"
            throw DataError(.notFound, "a type is declared for column '\(name)', which is not \(place)", path: self.name)
        }
        fields = selected.map { Field(name: $0, type: options.columnTypes[$0] ?? .text) }
        declared = selected.map { options.columnTypes[$0] != nil }
        fileColumnNumbers = Array(repeating: 0, count: selected.count)
        for (fileIndex, output) in targets.enumerated() where output >= 0 { fileColumnNumbers[output] = fileIndex + 1 }
        targetPointer.deallocate()
        targetPointer = .allocate(capacity: max(targets.count, 1))
        targetPointer.initialize(from: targets, count: targets.count)
        dataCapacityHints = Array(repeating: 4096, count: fields.count)

        if let scannedFields {
            fields = scannedFields
        } else if options.inferTypes, !scanning, let raw = try readRawBatch() {
            for index in fields.indices where !declared[index] {
                var field = TypeInference.inferField(raw[index], named: fields[index].name)
                // Later batches are not seen yet: a decimal column keeps no fixed precision.
                field.precision = nil
                field.scale = nil
                fields[index] = field
            }
            inferredFromFirstBatch = true
            pending = raw
        }
        schema = Schema(fields)
    }

    private static func uniqueNames(_ names: [String]) -> [String] {
        var used = Set<String>()
        var result: [String] = []
        for (index, original) in names.enumerated() {
            var name = original.isEmpty ? "column_\(index + 1)" : original
            if used.contains(name) {
                var suffix = 2
                while used.contains("\(name)_\(suffix)") { suffix += 1 }
                name = "\(name)_\(suffix)"
            }
            used.insert(name)
            result.append(name)
        }
        return result
    }

    private static func missingColumnMessage(_ column: String, names: [String]) -> String {
        if let close = closestMatch(to: column, among: names) {
            return "column '\(column)' is not in the file; did you mean '\(close)'?"
        }
        if names.isEmpty { return "column '\(column)' is not in the file; the file has no columns" }
        let shown = names.count > 12 ? Array(names.prefix(12)) : names
        let more = names.count > 12 ? " and \(names.count - 12) more" : ""
        return "column '\(column)' is not in the file; its columns are \(quotedList(shown, conjunction: "and"))\(more)"
    }

    /// The bytes of field `index` of the last record, with doubled quotes undone.
    private func fieldBytes(_ index: Int) -> [UInt8] {
        let span = spans[index]
        var bytes: [UInt8] = []
        var offset = span.start
        while offset < span.end {
            bytes.append(input[offset])
            offset += input[offset] == quote ? 2 : 1
        }
        return bytes
    }

    // MARK: Batches

    func next() throws(DataError) -> RecordBatch? {
        if closed { return nil }
        if let raw = pending {
            pending = nil
            return try typed(raw)
        }
        guard let raw = try readRawBatch() else { return nil }
        return try typed(raw)
    }

    /// The raw text columns converted to the schema's types; a value that does not fit is an error.
    private func typed(_ raw: [Column]) throws(DataError) -> RecordBatch {
        var columns: [Column] = []
        columns.reserveCapacity(raw.count)
        for index in fields.indices {
            switch TypeInference.convert(raw[index], to: fields[index]) {
            case .success(let column): columns.append(column)
            case .failure(let mismatch):
                let (pointer, count) = raw[index].bytes(mismatch.row)
                throw mismatchError(column: index, line: rowLines[mismatch.row], value: pointer, count)
            }
        }
        return RecordBatch(schema: schema, columns: columns)
    }

    /// The error for a value that does not fit column `index`'s type.
    private func mismatchError(column index: Int, line: Int, value pointer: UnsafePointer<UInt8>, _ count: Int) -> DataError {
        let field = fields[index]
        var value = String(decoding: UnsafeBufferPointer(start: pointer, count: min(count, 80)), as: UTF8.self)
        if count > 80 { value += "..." }
        var type = field.type.rawValue
        if field.type == .decimal, let precision = field.precision, let scale = field.scale { type += "(\(precision),\(scale))" }
        let why: String
        if declared[index] {
            why = "the declared type"
        } else if inferredFromFirstBatch {
            why = "the type inferred from the first \(firstBatchRows) rows; a pipe cannot be read twice to check every row"
        } else {
            why = "the type its scan found; the file changed while it was read"
        }
        return DataError(
            .typeMismatch, "column \(fileColumnNumbers[index]) ('\(field.name)'): value '\(value)' is not \(type) (\(why))",
            path: name, line: line, column: field.name)
    }

    /// The size of the first batch, which a pipe's types were inferred from.
    private var firstBatchRows = 0

    /// Scans every record (up to `limit`) without keeping it and returns the fields: declared types
    /// as declared (a value that does not fit is an error), the others the narrowest type all their
    /// values fit.
    ///
    /// A file of 8 MiB or more without a row limit is scanned on two threads: this parser reads up
    /// to the first line break after the middle, another reads from there to the end, and their
    /// findings are merged (the narrowest type of both halves is the narrowest of the whole). The
    /// halves' results are used only when the first half ends exactly there, on a record boundary,
    /// and the second finds nothing wrong; otherwise this parser reads on to the end as a single
    /// scan would, so a quoted line break across the middle, and every error's line number, come
    /// out the same. The scan is serial work before the first batch: two cores halve its wall time.
    func scanFields() throws(DataError) -> [Field] {
        var scans = Array(repeating: TypeInference.ColumnScan(), count: fields.count)
        if let split = secondHalfOffset() {
            let second = CSVParser(secondHalfOf: self, from: split.offset)
            if let work = BackgroundWork.start({ () -> [TypeInference.ColumnScan]? in
                defer { second.close() }
                var scans = Array(repeating: TypeInference.ColumnScan(), count: second.fields.count)
                do { try second.scanRecords(into: &scans) } catch { return nil }
                return scans
            }) {
                readCap = split.bytesRead
                var failure: DataError?
                do {
                    try scanRecords(into: &scans)
                } catch {
                    failure = error
                }
                // Joined before anything is thrown: the other thread reads this parser's descriptor.
                let secondScans = work.join()
                readCap = nil
                if let failure { throw failure }
                if reachedSplit, !splitFailed, let secondScans {
                    for index in scans.indices { scans[index].merge(secondScans[index]) }
                    return result(of: scans)
                }
                if reachedSplit {
                    // The second half found an error, which a single scan reports with its line number.
                    atEnd = false
                    try scanRecords(into: &scans)
                }
                return result(of: scans)
            }
            second.close()
        }
        try scanRecords(into: &scans)
        return result(of: scans)
    }

    private func result(of scans: [TypeInference.ColumnScan]) -> [Field] {
        fields.indices.map { declared[$0] ? fields[$0] : scans[$0].field(named: fields[$0].name) }
    }

    /// Where the second half of a type scan starts: just after the first line break past the middle
    /// of what is left to read, as a file offset and as this parser's `bytesRead` there; nil when
    /// the file is small, has a row limit, or no line break follows the middle closely.
    private func secondHalfOffset() -> (offset: Int64, bytesRead: Int)? {
        guard remaining == Int.max, readOffset == nil else { return nil }
        var info = stat()
        let here = lseek(descriptor, 0, SEEK_CUR)
        guard here >= 0, fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let left = Int64(info.st_size) - Int64(here)
        guard left >= 8 << 20 else { return nil }
        let middle = Int64(here) + left / 2
        let window = 1 << 16
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: window, alignment: 1)
        defer { bytes.deallocate() }
        let count = pread(descriptor, bytes, window, off_t(middle))
        guard count > 0, let found = memchr(bytes, Int32(UInt8(ascii: "\n")), count) else { return nil }
        let offset = middle + Int64(bytes.distance(to: found)) + 1
        return (offset, bytesRead + Int(offset - Int64(here)))
    }

    /// Adds every record from here on (up to `limit`) to `scans`.
    private func scanRecords(into scans: inout [TypeInference.ColumnScan]) throws(DataError) {
        var rows = 0
        while rows < remaining {
            guard let count = try parseRecord() else { break }
            if count == 1, fileFieldCount != 1, spans[0].start == spans[0].end, spans[0].flags == 0 { continue }
            if count > fileFieldCount {
                throw DataError(.malformed, "record has \(count) fields, but the header has \(fileFieldCount)",
                                path: name, line: recordLine)
            }
            for field in 0..<count {
                let target = targetPointer[field]
                if target < 0 { continue }
                let span = spans[field]
                if span.end == span.start, span.flags == 0 { continue }
                if !declared[target], scans[target].kinds.isEmpty { continue }
                if span.flags & 2 == 0 {
                    try scanValue(UnsafePointer(input + span.start), span.end - span.start, column: target, into: &scans)
                } else {
                    let bytes = fieldBytes(field)
                    try bytes.withUnsafeBufferPointer { buffer throws(DataError) in
                        try scanValue(buffer.baseAddress!, buffer.count, column: target, into: &scans)
                    }
                }
            }
            rows += 1
        }
    }

    /// Adds one non-empty value of the current record to its column's scan, or checks it against the
    /// column's declared type.
    @inline(__always)
    private func scanValue(
        _ pointer: UnsafePointer<UInt8>, _ length: Int, column target: Int, into scans: inout [TypeInference.ColumnScan]
    ) throws(DataError) {
        if naLengths != 0, naLengths & (1 &<< UInt64(min(length, 63))) != 0, isNA(pointer, length) { return }
        if declared[target] {
            if !TypeInference.fits(pointer, length, fields[target]) {
                throw mismatchError(column: target, line: recordLine, value: pointer, length)
            }
        } else {
            scans[target].add(pointer, length)
        }
    }

    /// Reads up to `batchSize` records into text columns; nil when there are none left.
    private func readRawBatch() throws(DataError) -> [Column]? {
        if exhausted || closed { return nil }
        let maximumRows = min(batchSize, remaining)
        if maximumRows == 0 { return nil }
        let outputCount = fields.count
        let raw = UnsafeMutablePointer<RawColumn>.allocate(capacity: max(outputCount, 1))
        let validityBytes = (maximumRows + 7) / 8
        for index in 0..<outputCount {
            let offsets = UnsafeMutablePointer<Int64>.allocate(capacity: maximumRows + 1)
            offsets[0] = 0
            let validity = UnsafeMutablePointer<UInt8>.allocate(capacity: validityBytes)
            validity.initialize(repeating: 0, count: validityBytes)
            let capacity = max(64, dataCapacityHints[index])
            raw[index] = RawColumn(data: .allocate(capacity: capacity), dataCount: 0, dataCapacity: capacity,
                                   offsets: offsets, validity: validity, nullCount: 0)
        }
        var rows = 0
        var failure: DataError?
        do {
            rows = try fillRows(raw, maximumRows: maximumRows)
        } catch {
            failure = error
        }
        if failure != nil || rows == 0 {
            for index in 0..<outputCount {
                raw[index].data.deallocate()
                raw[index].offsets.deallocate()
                raw[index].validity.deallocate()
            }
            raw.deallocate()
            if let failure { throw failure }
            return nil
        }
        var columns: [Column] = []
        columns.reserveCapacity(outputCount)
        for index in 0..<outputCount {
            let column = raw[index]
            // The next batch starts with room for about as much text as this one held.
            dataCapacityHints[index] = column.dataCount + column.dataCount / 8 + 64
            columns.append(Column(
                type: .text, count: rows, nullCount: column.nullCount,
                validity: Buffer(adopting: column.validity, count: (rows + 7) / 8, capacity: validityBytes),
                data: Buffer(adopting: column.data, count: column.dataCount, capacity: column.dataCapacity),
                words: Buffer(adopting: column.offsets, count: rows + 1, capacity: maximumRows + 1)))
        }
        raw.deallocate()
        remaining -= rows
        if rowsRead == 0 { firstBatchRows = rows }
        rowsRead += rows
        return columns
    }

    /// Parses records into `raw` until `maximumRows` or the end of the input; returns the row count.
    private func fillRows(_ raw: UnsafeMutablePointer<RawColumn>, maximumRows: Int) throws(DataError) -> Int {
        let fileFieldCount = fileFieldCount
        let quote = quote
        let naLengths = naLengths
        let targets = targetPointer
        var rows = 0
        while rows < maximumRows {
            guard let count = try parseRecord() else {
                exhausted = true
                break
            }
            let spans = spans
            if count == 1, fileFieldCount != 1, spans[0].start == spans[0].end, spans[0].flags == 0 { continue }
            if count > fileFieldCount {
                throw DataError(.malformed, "record has \(count) fields, but the header has \(fileFieldCount)",
                                path: name, line: recordLine)
            }
            let input = input
            let nextOffset = rows + 1
            let validityIndex = rows &>> 3
            let validityBit = UInt8(1) &<< UInt8(truncatingIfNeeded: rows & 7)
            for field in 0..<count {
                let target = targets[field]
                if target < 0 { continue }
                let span = spans[field]
                let column = raw + target
                var length = span.end &- span.start
                if length == 0, span.flags == 0 {
                    column.pointee.nullCount &+= 1
                    column.pointee.offsets[nextOffset] = Int64(column.pointee.dataCount)
                    continue
                }
                var dataCount = column.pointee.dataCount
                if dataCount &+ length > column.pointee.dataCapacity {
                    column.pointee.growData(minimum: dataCount + length)
                }
                let destination = column.pointee.data + dataCount
                if span.flags & 2 == 0 {
                    destination.update(from: input + span.start, count: length)
                } else {
                    var from = span.start
                    var to = 0
                    while from < span.end {
                        let byte = input[from]
                        destination[to] = byte
                        to &+= 1
                        from &+= byte == quote ? 2 : 1
                    }
                    length = to
                }
                if naLengths != 0, naLengths & (1 &<< UInt64(min(length, 63))) != 0, isNA(destination, length) {
                    column.pointee.nullCount &+= 1
                    column.pointee.offsets[nextOffset] = Int64(dataCount)
                    continue
                }
                dataCount &+= length
                column.pointee.dataCount = dataCount
                column.pointee.offsets[nextOffset] = Int64(dataCount)
                column.pointee.validity[validityIndex] |= validityBit
            }
            rowLines[rows] = recordLine
            if count < fileFieldCount {
                for field in count..<fileFieldCount {
                    let target = targets[field]
                    if target < 0 { continue }
                    let column = raw + target
                    column.pointee.nullCount &+= 1
                    column.pointee.offsets[nextOffset] = Int64(column.pointee.dataCount)
                }
            }
            rows &+= 1
    }
        return rows
    }

    private func isNA(_ pointer: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        for value in naValues where value.count == length {
            if value.withUnsafeBufferPointer({ memcmp($0.baseAddress!, pointer, length) == 0 }) { return true }
        }
        return false
    }

    // MARK: Tokenizer

    /// Reads more input, keeping the bytes from `recordStart` on (moved to the front of the buffer).
    private func refill() throws(DataError) {
        let keep = end - recordStart
        if recordStart > 0 {
            if keep > 0 { memmove(input, input + recordStart, keep) }
        } else if keep == inputCapacity {
            // One record larger than the buffer: grow it.
            let newCapacity = inputCapacity * 2
            let newInput = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            newInput.update(from: input, count: keep)
            input.deallocate()
            input = newInput
            inputCapacity = newCapacity
        }
        position -= recordStart
        recordStart = 0
        end = keep
        var wanted = inputCapacity - end
        if let cap = readCap {
            if bytesRead >= cap {
                if keep == 0 {
                    // The first half of a type scan ends here, between two records.
                    reachedSplit = true
                    atEnd = true
                    return
                }
                // A record crosses the split: read on as a single scan.
                splitFailed = true
                readCap = nil
            } else {
                wanted = min(wanted, cap - bytesRead)
            }
        }
        let count: Int
        if let offset = readOffset {
            count = try readDescriptor(descriptor, into: input + end, count: wanted, at: offset, name: name)
            readOffset = offset + Int64(count)
        } else {
            count = try readDescriptor(descriptor, into: input + end, count: wanted, name: name)
        }
        if count == 0 {
            atEnd = true
        } else {
            end += count
            bytesRead += count
        }
    }

    private enum ScanResult {
        case record(Int)
        case incomplete
        case finished
    }

    /// Parses the next record into `spans`; returns its field count, or nil at the end of the input.
    @inline(__always)
    private func parseRecord() throws(DataError) -> Int? {
        while true {
            recordStart = position
            recordLine = line
            switch try scanRecord() {
            case .record(let count): return count
            case .finished: return nil
            case .incomplete: try refill()
            }
        }
    }

    @inline(never)
    private func growSpans() {
        let newCapacity = spanCapacity * 2
        let newSpans = UnsafeMutablePointer<FieldSpan>.allocate(capacity: newCapacity)
        newSpans.update(from: spans, count: spanCapacity)
        spans.deallocate()
        spans = newSpans
        spanCapacity = newCapacity
    }

    /// Splits one record starting at `position` into field spans; moves `position` and `line` past
    /// it only when the whole record, with its line break, is in the buffer (or the input ended).
    @inline(__always)
    private func scanRecord() throws(DataError) -> ScanResult {
        let base = input
        let limit = end
        let atEnd = atEnd
        let quote = quote
        let delimiter = delimiter
        let stops = stops
        var p = position
        var lineNumber = line
        if p >= limit { return atEnd ? .finished : .incomplete }
        var fieldIndex = 0
        let newline = UInt8(ascii: "\n")
        let carriageReturn = UInt8(ascii: "\r")
        while true {
            if fieldIndex == spanCapacity { growSpans() }
            if p < limit, base[p] == quote {
                let open = p
                p &+= 1
                var escaped: UInt8 = 0
                while true {
                    if p >= limit {
                        if atEnd {
                            throw DataError(.malformed, "a quoted field is never closed", path: name, line: recordLine)
                        }
                        return .incomplete
                    }
                    let byte = base[p]
                    if byte == quote {
                        if p &+ 1 >= limit {
                            if !atEnd { return .incomplete }
                            p &+= 1
                            break
                        }
                        if base[p &+ 1] == quote {
                            escaped = 2
                            p &+= 2
                            continue
                        }
                        p &+= 1
                        break
                    }
                    if byte == newline {
                        lineNumber &+= 1
                    } else if byte == carriageReturn {
                        if p &+ 1 < limit {
                            if base[p &+ 1] != newline { lineNumber &+= 1 }
                        } else if !atEnd {
                            return .incomplete
                        } else {
                            lineNumber &+= 1
                        }
                    }
                    p &+= 1
                }
                spans[fieldIndex] = FieldSpan(start: open &+ 1, end: p &- 1, flags: 1 | escaped)
            } else {
                let start = p
                while p < limit, stops[Int(base[p])] == 0 { p &+= 1 }
                spans[fieldIndex] = FieldSpan(start: start, end: p, flags: 0)
            }
            fieldIndex &+= 1
            if p >= limit {
                if !atEnd { return .incomplete }
                break
            }
            let byte = base[p]
            if byte == delimiter {
                p &+= 1
                continue
            }
            if byte == newline {
                p &+= 1
                lineNumber &+= 1
                break
            }
            if byte == carriageReturn {
                if p &+ 1 < limit {
                    p &+= base[p &+ 1] == newline ? 2 : 1
                } else if !atEnd {
                    return .incomplete
                } else {
                    p &+= 1
                }
                lineNumber &+= 1
                break
            }
            throw DataError(.malformed, "unexpected text after the closing quote of a field", path: name, line: lineNumber)
        }
        position = p
        line = lineNumber
        return .record(fieldIndex)
    }
}
