import OsirisCore

/// Appends record batches to a spill file, for a tee whose consumer is not reading yet.
///
/// Format (integers little-endian, the byte order of every supported machine): the 8 bytes
/// `OSBATCH1`, then one entry per batch:
///
///     u64 header length, then the header:
///         u64 rows, u32 fields,
///         per field: u32 name length, name (UTF-8), u8 type code (bool 1, int64 2, float64 3,
///                    decimal 4, text 5, bytes 6, date 7, time 8, timestamp 9, timestamptz 10,
///                    json 11, uuid 12), u8 flags (1 nullable, 2 has precision, 4 has scale),
///                    i64 precision, i64 scale
///         per column: u64 null count, u64 validity bytes, u64 data bytes, u64 words
///     then per column its buffers as `Column` holds them: the validity bitmap, the data bytes
///     (bool values, or the bytes of byte-backed values), the 64-bit words (int64 values, float64
///     bit patterns, or the offsets of byte-backed values).
///
/// Appends are not buffered: each `append` writes its whole entry with write(2) before returning, so
/// a reader sees every batch appended before it got there (no flush needed); the file holds nothing
/// else, so it ends after the last complete entry.
public final class BatchSpillWriter {
    private let path: String
    private var descriptor: Int32
    /// Bytes written to the file so far, the 8-byte magic included.
    public private(set) var bytesWritten = 0

    static let magic = Array("OSBATCH1".utf8)

    /// Creates (or truncates) the spill file at `path`, readable by its owner only.
    public init(path: String) throws(DataError) {
        self.path = path
        descriptor = try openForWriting(path)
        try writeBytes(descriptor, Self.magic, name: path)
        bytesWritten = Self.magic.count
    }

    deinit {
        if descriptor >= 0 { closeDescriptor(descriptor) }
    }

    /// Writes one batch to the file.
    public func append(_ batch: RecordBatch) throws(DataError) {
        guard descriptor >= 0 else { throw DataError(.io, "the spill file is already finished", path: path) }
        var header = SpillEncoder()
        header.u64(UInt64(batch.count))
        header.u32(UInt32(batch.schema.fields.count))
        for field in batch.schema.fields {
            let name = Array(field.name.utf8)
            header.u32(UInt32(name.count))
            header.bytes.append(contentsOf: name)
            header.bytes.append(SpillTypeCode.code(field.type))
            var flags: UInt8 = field.nullable ? 1 : 0
            if field.precision != nil { flags |= 2 }
            if field.scale != nil { flags |= 4 }
            header.bytes.append(flags)
            header.u64(UInt64(bitPattern: Int64(field.precision ?? 0)))
            header.u64(UInt64(bitPattern: Int64(field.scale ?? 0)))
        }
        for column in batch.columns {
            header.u64(UInt64(column.nullCount))
            header.u64(UInt64(column.validity.count))
            header.u64(UInt64(column.data.count))
            header.u64(UInt64(column.words.count))
        }
        var prefix = SpillEncoder()
        prefix.u64(UInt64(header.bytes.count))
        try write(prefix.bytes)
        try write(header.bytes)
        for column in batch.columns {
            try writeDescriptor(descriptor, column.validity.base, count: column.validity.count, name: path)
            try writeDescriptor(descriptor, column.data.base, count: column.data.count, name: path)
            try writeDescriptor(descriptor, column.words.base, count: column.words.count * 8, name: path)
            bytesWritten += column.validity.count + column.data.count + column.words.count * 8
        }
    }

    private func write(_ bytes: [UInt8]) throws(DataError) {
        try writeBytes(descriptor, bytes, name: path)
        bytesWritten += bytes.count
    }

    /// Closes the file; it can then be read to the end.
    public func finish() throws(DataError) {
        guard descriptor >= 0 else { return }
        closeDescriptor(descriptor)
        descriptor = -1
    }
}

/// Reads back the batches of a spill file written by `BatchSpillWriter`, in order.
public final class BatchSpillReader {
    private let path: String
    private var descriptor: Int32

    /// The largest header accepted; anything bigger means the file is damaged.
    static let maximumHeaderLength: UInt64 = 64 << 20

    /// Opens the spill file at `path` and checks its magic bytes.
    public init(path: String) throws(DataError) {
        self.path = path
        descriptor = try openForReading(path)
        var magic = [UInt8](repeating: 0, count: 8)
        let count = try readBytes(descriptor, into: &magic, name: path)
        if count != 8 || magic != BatchSpillWriter.magic {
            closeDescriptor(descriptor)
            descriptor = -1
            throw DataError(.malformed, "not a spill file", path: path)
        }
    }

    deinit { close() }

    /// The next batch, or nil after the last one written so far.
    public func next() throws(DataError) -> RecordBatch? {
        guard descriptor >= 0 else { return nil }
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        let got = try read(into: &lengthBytes)
        if got == 0 { return nil }
        if got != 8 { throw damaged() }
        var lengthDecoder = SpillDecoder(lengthBytes)
        let headerLength = lengthDecoder.u64()!
        if headerLength > Self.maximumHeaderLength { throw damaged() }
        var headerBytes = [UInt8](repeating: 0, count: Int(headerLength))
        if try read(into: &headerBytes) != headerBytes.count { throw damaged() }

        var header = SpillDecoder(headerBytes)
        guard let rowCount = header.u64(), rowCount <= UInt64(Int.max / 16), let fieldCount = header.u32() else { throw damaged() }
        let rows = Int(rowCount)
        var fields: [Field] = []
        for _ in 0..<fieldCount {
            guard let nameLength = header.u32(), let name = header.take(Int(nameLength)),
                  let code = header.u8(), let type = SpillTypeCode.type(code), let flags = header.u8(),
                  let precision = header.u64(), let scale = header.u64()
            else { throw damaged() }
            fields.append(Field(
                name: String(decoding: name, as: UTF8.self), type: type, nullable: flags & 1 != 0,
                precision: flags & 2 != 0 ? Int(Int64(bitPattern: precision)) : nil,
                scale: flags & 4 != 0 ? Int(Int64(bitPattern: scale)) : nil))
        }
        var sizes: [(nulls: Int, validity: Int, data: Int, words: Int)] = []
        for field in fields {
            guard let nulls = header.u64(), let validity = header.u64(), let data = header.u64(), let words = header.u64(),
                  nulls <= rowCount, validity == (rowCount + 7) / 8, data <= UInt64(Int.max / 2), words <= UInt64(Int.max / 16)
            else { throw damaged() }
            let expectedWords: UInt64 = switch field.type {
            case .bool: 0
            case .int64, .float64: rowCount
            default: rowCount + 1
            }
            if field.type == .bool, data != rowCount { throw damaged() }
            if field.type != .bool, words < expectedWords { throw damaged() }
            sizes.append((Int(nulls), Int(validity), Int(data), field.type == .bool ? 0 : Int(words)))
        }
        var columns: [Column] = []
        for (field, size) in zip(fields, sizes) {
            let validity = Buffer<UInt8>(capacity: size.validity)
            let data = Buffer<UInt8>(capacity: size.data)
            let words = Buffer<Int64>(capacity: size.words)
            try fill(validity.base, size.validity)
            validity.count = size.validity
            try fill(data.base, size.data)
            data.count = size.data
            try fill(UnsafeMutableRawPointer(words.base).assumingMemoryBound(to: UInt8.self), size.words * 8)
            words.count = size.words
            if field.type.isByteBacked {
                // Offsets index into the data: check them so a damaged file cannot read out of bounds.
                var previous: Int64 = 0
                if words[0] != 0 { throw damaged() }
                for index in 0...rows {
                    let offset = words[index]
                    if offset < previous || offset > Int64(size.data) { throw damaged() }
                    previous = offset
                }
            }
            columns.append(Column(type: field.type, count: rows, nullCount: size.nulls, validity: validity, data: data, words: words))
        }
        return RecordBatch(schema: Schema(fields), columns: columns)
    }

    /// Closes the file.
    public func close() {
        if descriptor >= 0 { closeDescriptor(descriptor) }
        descriptor = -1
    }

    private func damaged() -> DataError { DataError(.malformed, "the spill file is damaged or was cut short", path: path) }

    private func read(into bytes: inout [UInt8]) throws(DataError) -> Int {
        try readBytes(descriptor, into: &bytes, name: path)
    }

    private func fill(_ pointer: UnsafeMutablePointer<UInt8>, _ count: Int) throws(DataError) {
        if count == 0 { return }
        if try readFully(descriptor, into: pointer, count: count, name: path) != count { throw damaged() }
    }
}

/// The spill format's type codes.
enum SpillTypeCode {
    static func code(_ type: LogicalType) -> UInt8 {
        switch type {
        case .bool: 1
        case .int64: 2
        case .float64: 3
        case .decimal: 4
        case .text: 5
        case .bytes: 6
        case .date: 7
        case .time: 8
        case .timestamp: 9
        case .timestamptz: 10
        case .json: 11
        case .uuid: 12
        }
    }

    static func type(_ code: UInt8) -> LogicalType? {
        LogicalType.allCases.first { Self.code($0) == code }
    }
}

/// Little-endian integers into bytes.
struct SpillEncoder {
    var bytes: [UInt8] = []

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

/// Little-endian integers out of bytes; nil past the end.
struct SpillDecoder {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.count - index >= count else { return nil }
        defer { index += count }
        return bytes[index..<index + count]
    }

    mutating func u8() -> UInt8? { take(1)?.first }

    mutating func u32() -> UInt32? {
        guard let slice = take(4) else { return nil }
        return slice.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func u64() -> UInt64? {
        guard let slice = take(8) else { return nil }
        return slice.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
