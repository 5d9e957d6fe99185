import OsirisCore
import Testing
import OsirisData

#if canImport(Glibc)
import Glibc
#endif

@Suite struct BatchSpillTests {
    private let batch = makeBatch([
        ("b", .bool, [.bool(true), .null, .bool(false)]),
        ("i", .int64, [.int64(Int64.min), .int64(0), .null]),
        ("f", .float64, [.null, .float64(-1.5), .float64(.infinity)]),
        ("d", .decimal, [.text("12.50", .decimal), .null, .text("-0.1", .decimal)]),
        ("t", .text, [.text("", .text), .text("Zoë 😀", .text), .null]),
        ("x", .bytes, [.bytes([0, 255]), .null, .bytes([])]),
        ("day", .date, [.text("2024-05-01", .date), .null, .null]),
        ("tm", .time, [.null, .text("13:45:00.5", .time), .null]),
        ("ts", .timestamp, [.text("2024-05-01 13:45:00", .timestamp), .null, .null]),
        ("tz", .timestamptz, [.null, .null, .text("2024-05-01T13:45:00+02:00", .timestamptz)]),
        ("j", .json, [.text("[1,2]", .json), .null, .null]),
        ("u", .uuid, [.null, .text("8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f", .uuid), .null]),
        ("nulls", .int64, [.null, .null, .null]),
    ])

    @Test func everyTypeRoundTripsWithNulls() throws {
        let path = temporaryPath(".spill")
        defer { unlink(path) }
        var decimalSchema = batch.schema
        decimalSchema.fields[3].precision = 4
        decimalSchema.fields[3].scale = 2
        decimalSchema.fields[1].nullable = false
        let described = RecordBatch(schema: decimalSchema, columns: batch.columns)
        let writer = try BatchSpillWriter(path: path)
        try writer.append(described)
        try writer.append(batch)
        try writer.finish()
        #expect(writer.bytesWritten == (try InputFile.read(path)).count)

        let reader = try BatchSpillReader(path: path)
        let first = try #require(try reader.next())
        let second = try #require(try reader.next())
        #expect(try reader.next() == nil)
        reader.close()
        #expect(first.schema == decimalSchema)
        #expect(second.schema == batch.schema)
        #expect(rows([first]) == rows([batch]))
        #expect(rows([second]) == rows([batch]))
        #expect(first.columns.map(\.type) == batch.columns.map(\.type))
        #expect((0..<3).map { first.columns[12].isNull($0) } == [true, true, true])
    }

    @Test func readerSeesBatchesAppendedWhileItReads() throws {
        let path = temporaryPath(".spill")
        defer { unlink(path) }
        let writer = try BatchSpillWriter(path: path)
        try writer.append(batch)
        let reader = try BatchSpillReader(path: path)
        #expect(try reader.next()?.count == 3)
        #expect(try reader.next() == nil)
        try writer.append(batch)
        #expect(try reader.next()?.count == 3)
        try writer.finish()
        #expect(try reader.next() == nil)
    }

    @Test func cutShortFileIsDamaged() throws {
        let path = temporaryPath(".spill")
        defer { unlink(path) }
        let writer = try BatchSpillWriter(path: path)
        try writer.append(batch)
        try writer.finish()
        truncate(path, off_t(writer.bytesWritten - 5))
        let reader = try BatchSpillReader(path: path)
        let error = dataError { _ = try reader.next() }
        #expect(error?.kind == .malformed)
        #expect(error?.message == "the spill file is damaged or was cut short")
    }

    @Test func otherFilesAreNotSpillFiles() throws {
        try withTemporaryFile(Array("id,name\n".utf8)) { path in
            let error = dataError { _ = try BatchSpillReader(path: path) }
            #expect(error?.message == "not a spill file")
        }
    }
}
