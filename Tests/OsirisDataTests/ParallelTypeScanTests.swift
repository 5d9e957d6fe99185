import Testing
import OsirisData

/// Files of 8 MiB or more are type-scanned in two halves on two threads; these check that the
/// result is what one scan of every row gives.
@Suite struct ParallelTypeScanTests {
    /// 400,000 rows `id,amount,name` (13 MB), with `middle` inserted after the first half of them
    /// and `last` at the end.
    private static func file(middle: String = "", last: String = "") -> (text: String, rows: Int) {
        var text = "id,amount,name\n"
        let rowCount = 400_000
        text.reserveCapacity(rowCount * 27 + middle.utf8.count + last.utf8.count)
        for index in 1...rowCount {
            if index == rowCount / 2 { text += middle }
            text += "\(index),\(index % 1000).\(index % 10),customer_number_\(index % 9973)\n"
        }
        text += last
        return (text, rowCount)
    }

    @Test func aValueInTheSecondHalfWidensTheColumnsType() throws {
        // The first half sees integers and one-digit scales only; the last rows have a scale of 3 and a word.
        let (text, rows) = Self.file(last: "400001,12.345,a\nabc,1.0,b\n")
        #expect(text.utf8.count >= 8 << 20)
        let (schema, batches) = try readCSV(text)
        #expect(schema.fields == [
            Field(name: "id", type: .text),
            Field(name: "amount", type: .decimal, precision: 6, scale: 3),
            Field(name: "name", type: .text),
        ])
        #expect(batches.reduce(0) { $0 + $1.count } == rows + 2)
        #expect(try writeCSV(batches, schema: schema) == text)
    }

    @Test func aQuotedLineBreakAcrossTheMiddleReadsAsOneField() throws {
        // A field of 4 MB of short lines from 6.5 MB on covers the middle of the 17 MB file, so the
        // first line break after the middle is inside quotes: the second half must not start there.
        let lines = String(repeating: "x,1\n", count: 1_000_000)
        let (text, rows) = Self.file(middle: "0,0.5,\"\(lines)\"\n")
        let (schema, batches) = try readCSV(text)
        #expect(schema.fields.map(\.type) == [.int64, .decimal, .text])
        #expect(batches.reduce(0) { $0 + $1.count } == rows + 1)
        #expect(try writeCSV(batches, schema: schema) == text)
    }

    @Test func anErrorInTheSecondHalfNamesItsLine() throws {
        var options = CSVReadOptions()
        options.columnTypes = ["id": .int64]
        let (text, rows) = Self.file(last: "x1,1.0,b\n")
        let error = dataError { _ = try readCSV(text, options) }
        #expect(error?.kind == .typeMismatch)
        #expect(error?.line == rows + 2)
        #expect(error?.message == "column 1 ('id'): value 'x1' is not int64 (the declared type)")
    }

    @Test func aTooLongRecordInTheSecondHalfNamesItsLine() throws {
        let (text, rows) = Self.file(last: "1,2,3,4\n")
        let error = dataError { _ = try readCSV(text) }
        #expect(error?.kind == .malformed)
        #expect(error?.line == rows + 2)
    }
}
