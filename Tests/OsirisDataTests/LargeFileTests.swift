import Testing
import OsirisData

@Suite struct LargeFileTests {
    /// 200,000 generated rows read in several batches: the row count and a checksum of every column.
    @Test func generatedFileReadsCompletely() throws {
        let rowCount = 200_000
        var text = "id,amount,name,at\n"
        text.reserveCapacity(rowCount * 50)
        var expectedIDs: Int64 = 0
        var expectedNameBytes = 0
        for index in 1...rowCount {
            let name = index % 7 == 0 ? "\"n,\(index)\"" : "name\(index)"
            text += "\(index),\(index % 1000).\(index % 10)5,\(name),2024-05-\(10 + index % 18) 12:00:00\n"
            expectedIDs += Int64(index)
            expectedNameBytes += index % 7 == 0 ? "n,\(index)".utf8.count : "name\(index)".utf8.count
        }
        let (schema, batches) = try readCSV(text)
        #expect(schema.fields.map(\.type) == [.int64, .decimal, .text, .timestamp])
        #expect(batches.count == 4)
        #expect(batches.reduce(0) { $0 + $1.count } == rowCount)
        var ids: Int64 = 0
        var nameBytes = 0
        var amountDigits = 0
        for batch in batches {
            for row in 0..<batch.count {
                ids += batch.columns[0].int64(row)
                nameBytes += batch.columns[2].withBytes(row) { $0.count }
                amountDigits += batch.columns[1].withBytes(row) { $0.count }
            }
        }
        #expect(ids == expectedIDs)
        #expect(nameBytes == expectedNameBytes)
        #expect(amountDigits > 0)
        #expect(try writeCSV(batches, schema: schema) == text)
    }
}
