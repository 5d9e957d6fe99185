import OsirisCore
import Testing
import OsirisData

#if canImport(Glibc)
import Glibc
#endif

@Suite struct CSVWriterTests {
    private let batch = makeBatch([
        ("id", .int64, [.int64(1), .int64(-2), .null]),
        ("price", .decimal, [.text("12.50", .decimal), .null, .text("0.0", .decimal)]),
        ("ratio", .float64, [.float64(0.5), .float64(1e-05), .float64(.infinity)]),
        ("name", .text, [.text("a,b", .text), .text("", .text), .text("say \"hi\"", .text)]),
        ("ok", .bool, [.bool(true), .bool(false), .null]),
        ("raw", .bytes, [.bytes([0x00, 0xff]), .bytes([]), .null]),
        ("day", .date, [.text("2024-05-01", .date), .null, .text("2024-05-03", .date)]),
    ])

    private func options(_ quoting: CSVQuoting, _ newline: Newline = .lf) -> CSVWriteOptions {
        var options = CSVWriteOptions()
        options.quoting = quoting
        options.newline = newline
        return options
    }

    @Test func minimalQuoting() throws {
        #expect(try writeCSV([batch], schema: batch.schema, options(.minimal)) == [
            #"id,price,ratio,name,ok,raw,day"#,
            #"1,12.50,0.5,"a,b",true,\x00ff,2024-05-01"#,
            #"-2,,1e-05,"",false,\x,"#,
            #",0.0,inf,"say ""hi""",,,2024-05-03"#,
        ].map { $0 + "\n" }.joined())
    }

    @Test func allQuoting() throws {
        #expect(try writeCSV([batch], schema: batch.schema, options(.all)) == [
            #""id","price","ratio","name","ok","raw","day""#,
            #""1","12.50","0.5","a,b","true","\x00ff","2024-05-01""#,
            #""-2",,"1e-05","","false","\x","#,
            #","0.0","inf","say ""hi""",,,"2024-05-03""#,
        ].map { $0 + "\n" }.joined())
    }

    @Test func nonnumericQuoting() throws {
        #expect(try writeCSV([batch], schema: batch.schema, options(.nonnumeric)) == [
            #""id","price","ratio","name","ok","raw","day""#,
            #"1,12.50,0.5,"a,b","true","\x00ff","2024-05-01""#,
            #"-2,,1e-05,"","false","\x","#,
            #",0.0,inf,"say ""hi""",,,"2024-05-03""#,
        ].map { $0 + "\n" }.joined())
    }

    @Test func crlfNewlinesEndRecordsButNotValues() throws {
        let lines = makeBatch([("a", .text, [.text("x\ny", .text), .text("z", .text)])])
        #expect(try writeCSV([lines], schema: lines.schema, options(.minimal, .crlf)) == "a\r\n\"x\ny\"\r\nz\r\n")
    }

    @Test func headerCanBeLeftOutAndDelimiterChanged() throws {
        var options = CSVWriteOptions()
        options.header = false
        options.delimiter = UInt8(ascii: "|")
        let small = makeBatch([("a", .text, [.text("x|y", .text), .text("x,y", .text)]), ("b", .int64, [.int64(1), .int64(2)])])
        #expect(try writeCSV([small], schema: small.schema, options) == "\"x|y\"|1\nx,y|2\n")
    }

    @Test func delimiterThatAppearsInNumbersQuotesThem() throws {
        var options = CSVWriteOptions()
        options.delimiter = UInt8(ascii: ".")
        let numbers = makeBatch([("a", .float64, [.float64(1.5)]), ("b", .int64, [.int64(2)])])
        #expect(try writeCSV([numbers], schema: numbers.schema, options) == "a.b\n\"1.5\".2\n")
    }

    @Test func headerIsWrittenWithoutAnyBatch() throws {
        let schema = Schema([Field(name: "a b", type: .int64), Field(name: "", type: .text), Field(name: "c,d", type: .text)])
        #expect(try writeCSV([], schema: schema) == "a b,\"\",\"c,d\"\n")
    }

    @Test func singleColumnNullIsAnEmptyLine() throws {
        let single = makeBatch([("a", .text, [.null, .text("", .text)])])
        #expect(try writeCSV([single], schema: single.schema) == "a\n\n\"\"\n")
    }

    @Test func encodingOtherThanUTF8IsRefused() {
        var options = CSVWriteOptions()
        options.encoding = "utf-16"
        let error = dataError { _ = try CSVWriter(descriptor: 1, schema: Schema([]), options: options) }
        #expect(error?.kind == .unsupported)
        #expect(error?.message.hasPrefix("encoding 'utf-16' is not supported yet") == true)
    }

    @Test func writeFailureIsAnIOErrorWithTheSystemMessage() throws {
        let descriptor = open("/dev/null", O_RDONLY)
        defer { close(descriptor) }
        let writer = try CSVWriter(descriptor: descriptor, schema: batch.schema, options: CSVWriteOptions())
        try writer.write(batch)
        let error = dataError { try writer.finish() }
        #expect(error?.kind == .io)
        #expect(error?.message == "cannot write: Bad file descriptor")
    }

    @Test func largeOutputIsFlushedInPiecesAndCounted() throws {
        var builder = BatchBuilder(schema: Schema([Field(name: "n", type: .int64), Field(name: "t", type: .text)]))
        var expected = "n,t\n"
        for index in 0..<100_000 {
            builder.columns[0].append(Int64(index))
            builder.columns[1].append(string: "row \(index)")
            expected += "\(index),row \(index)\n"
        }
        let big = builder.finish()
        var written = 0
        let bytes = try captureOutput { descriptor in
            let writer = try CSVWriter(descriptor: descriptor, schema: big.schema, options: CSVWriteOptions())
            try writer.write(big)
            try writer.finish()
            written = writer.bytesWritten
        }
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
        #expect(written == expected.utf8.count)
    }
}
