import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Testing

@Suite final class CSVExtractorTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }

    /// 100K integer amounts, then `abc` on line 100,002.
    static let integersThenText: Data = {
        var text = "id,amount\n"
        for row in 0..<100_000 { text += "\(row),\(row % 977)\n" }
        return Data((text + "100000,abc\n").utf8)
    }()

    @Test func fileIsScannedAndEveryBatchHasTheDeclaredSchema() throws {
        let path = folder.appendingPathComponent("mixed.csv").path
        #expect(FileManager.default.createFile(atPath: path, contents: Self.integersThenText))
        let sink = CollectingSink()
        try CSVFileExtractor().extract(context("filesystem.csv_extractor", mode: "extract", config: ["path": .string(path)], folder: folder), output: sink)
        #expect(sink.schema == Schema([Field(name: "id", type: .int64), Field(name: "amount", type: .text)]))
        #expect(sink.batches.map(\.count) == [65_536, 34_465])
        #expect(sink.batches.allSatisfy { $0.schema == sink.schema })
    }

    @Test func pipeFailsWithARunErrorNamingLineColumnValueAndTheFix() throws {
        let path = folder.appendingPathComponent("mixed.fifo").path
        #expect(mkfifo(path, 0o600) == 0)
        let bytes = Self.integersThenText
        // The extractor stops reading at the bad value: the writer then gets EPIPE, not a signal.
        signal(SIGPIPE, SIG_IGN)
        let writer = Thread {
            guard let handle = FileHandle(forWritingAtPath: path) else { return }
            try? handle.write(contentsOf: bytes)
            try? handle.close()
        }
        writer.start()
        let sink = CollectingSink()
        do {
            try CSVFileExtractor().extract(context("filesystem.csv_extractor", mode: "extract", config: ["path": .string(path)], folder: folder), output: sink)
            Issue.record("the pipe was read without an error")
        } catch {
            #expect(error.code == .run)
            #expect(error.message == """
                \(path):100002: column 2 ('amount'): value 'abc' is not int64 (the type inferred from the first 65536 rows; \
                a pipe cannot be read twice to check every row); declare the column's type in the step's config, \
                for example dtype: {amount: text}
                """)
        }
        #expect(sink.batches.map(\.count) == [65_536])
    }

    @Test func dtypeDeclaresTypes() throws {
        let path = folder.appendingPathComponent("zip.csv").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data("zip,n\n007,1\n".utf8)))
        let sink = CollectingSink()
        let config: JSONValue = ["path": .string(path), "dtype": ["zip": "str", "n": "float"]]
        let step = context("filesystem.csv_extractor", mode: "extract", config: config, folder: folder)
        #expect(throws: Never.self) { try CSVFileExtractor().extract(step, output: sink) }
        #expect(sink.schema?.fields.map(\.type) == [.text, .float64])

        let bad = context("filesystem.csv_extractor", mode: "extract", config: ["path": .string(path), "dtype": ["zip": "varchar"]], folder: folder)
        #expect(throws: StepError.self) { try CSVFileExtractor().extract(bad, output: CollectingSink()) }
    }

    @Test func batchThatBreaksTheStreamSchemaIsAnInternalError() {
        let declared = Schema([Field(name: "n", type: .int64)])
        let other = batch(Schema([Field(name: "n", type: .text)]), [[.text("x", .text)]])
        do {
            try StreamContract.check(other, declared: declared, step: "extract")
            Issue.record("a differing batch passed")
        } catch {
            #expect(error.code == .internalError)
            #expect(error.exitStatus == .software)
            #expect(error.message == "step 'extract' sent a batch whose schema differs from the one it declared: column 1 is 'n text null', not 'n int64 null'")
        }
        #expect(throws: StepError.self) { try StreamContract.check(other, declared: nil, step: "extract") }
    }
}
