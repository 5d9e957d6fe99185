import OsirisCore
import Testing
@testable import OsirisData

#if canImport(Glibc)
import Glibc
#endif

/// The tokenizer gives the same rows whatever the read size, so records cut by a refill anywhere
/// (inside quotes, between `\r` and `\n`, between doubled quotes) are parsed right.
@Suite struct CSVBufferBoundaryTests {
    private struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    private static let pieces = ["a", "\"", ",", "\r", "\n", "\r\n", "é", "😀", " ", "1", "x\"y", ""]

    private func generatedText(seed: UInt64) throws -> (text: String, rows: [[Value]]) {
        var generator = Generator(state: seed)
        var builders = (0..<4).map { _ in ColumnBuilder(type: .text) }
        for _ in 0..<300 {
            for index in builders.indices {
                if generator.next(6) == 0 {
                    builders[index].appendNull()
                } else {
                    let text = (0..<generator.next(5)).map { _ in Self.pieces[generator.next(Self.pieces.count)] }.joined()
                    builders[index].append(string: text)
                }
            }
        }
        let schema = Schema((1...4).map { Field(name: "c\($0)", type: .text) })
        let batch = RecordBatch(schema: schema, columns: builders.indices.map { builders[$0].finish() })
        var options = CSVWriteOptions()
        options.newline = seed % 2 == 0 ? .crlf : .lf
        return (try writeCSV([batch], schema: schema, options), rows([batch]))
    }

    private func parse(_ path: String, bufferSize: Int) throws -> [[Value]] {
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        var options = CSVReadOptions()
        options.inferTypes = false
        options.batchSize = 97
        let parser = try CSVParser(descriptor: descriptor, ownsDescriptor: false, name: path, options: options, bufferSize: bufferSize)
        var batches: [RecordBatch] = []
        while let batch = try parser.next() { batches.append(batch) }
        return rows(batches)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func everyReadSizeGivesTheSameRows(seed: UInt64) throws {
        let (text, expected) = try generatedText(seed: seed)
        try withTemporaryFile(Array(text.utf8)) { (path) throws in
            #expect(try parse(path, bufferSize: 1 << 20) == expected)
            for size in [1, 2, 3, 5, 8, 13, 64, 1000] {
                #expect(try parse(path, bufferSize: size) == expected, "read size \(size)")
            }
        }
    }

    @Test func loneCarriageReturnsAtEveryBoundary() throws {
        let text = "a,b\r1,\"x\ry\"\r\r2,3\r"
        try withTemporaryFile(Array(text.utf8)) { (path) throws in
            for size in 1...text.utf8.count + 1 {
                #expect(try parse(path, bufferSize: size) == [
                    [.text("1", .text), .text("x\ry", .text)],
                    [.text("2", .text), .text("3", .text)],
                ], "read size \(size)")
            }
        }
    }
}
