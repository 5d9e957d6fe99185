import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Testing

@Suite final class SQLiteDriverTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }
    let schema = Schema([
        Field(name: "id", type: .int64), Field(name: "name", type: .text), Field(name: "price", type: .decimal),
        Field(name: "ok", type: .bool), Field(name: "at", type: .timestamptz),
    ])

    var rows: [[Value]] {
        [
            [.int64(1), .text("Ada", .text), .text("12.50", .decimal), .bool(true), .text("2024-01-05T10:00:00+01:00", .timestamptz)],
            [.int64(2), .text("", .text), .null, .bool(false), .null],
            [.int64(3), .text("Grace \"G\" Hopper", .text), .text("0.25", .decimal), .null, .text("2024-03-01T00:00:00Z", .timestamptz)],
        ]
    }

    func write(_ config: JSONValue, _ batches: [RecordBatch]) throws(StepError) {
        let source = FixedSource(stepID: "up", schema: schema, batches: batches)
        try SQLiteWriter().write(context("sqlite.writer", mode: "write", config: config, folder: folder), input: source)
    }

    func read(_ config: JSONValue) throws(StepError) -> CollectingSink {
        let sink = CollectingSink()
        try SQLiteExtractor().extract(context("sqlite.extractor", mode: "extract", config: config, folder: folder), output: sink)
        return sink
    }

    var database: String { folder.appendingPathComponent("t.db").path }

    @Test func writeThenReadKeepsTypesAndNulls() throws {
        try write(["path": .string(database), "table": "items"], [batch(schema, rows)])
        let sink = try read(["path": .string(database), "table": "items"])
        #expect(sink.schema?.fields.map(\.type) == [.int64, .text, .decimal, .bool, .timestamptz])
        #expect(sink.rows == [
            ["1", "Ada", "12.5", "true", "2024-01-05T10:00:00+01:00"],
            ["2", "", "NULL", "false", "NULL"],
            ["3", "Grace \"G\" Hopper", "0.25", "NULL", "2024-03-01T00:00:00Z"],
        ])
    }

    @Test func writeModes() throws {
        let config: [String: JSONValue] = ["path": .string(database), "table": "items", "primary_key": ["id"]]
        try write(.object(config), [batch(schema, rows)])
        var append = config
        append["write_mode"] = "append"
        #expect(throws: StepError.self) { try write(.object(append), [batch(schema, [rows[0]])]) }  // primary key clash
        #expect(try read(["path": .string(database), "query": "SELECT count(*) AS n FROM items"]).rows == [["3"]])

        var upsert = config
        upsert["write_mode"] = "upsert"
        let changed: [Value] = [.int64(1), .text("Ada L.", .text), .text("13.00", .decimal), .bool(true), .null]
        let added: [Value] = [.int64(4), .text("Linus", .text), .null, .bool(false), .null]
        try write(.object(upsert), [batch(schema, [changed, added])])
        #expect(try read(["path": .string(database), "query": "SELECT id, name FROM items ORDER BY id"]).rows
            == [["1", "Ada L."], ["2", ""], ["3", "Grace \"G\" Hopper"], ["4", "Linus"]])

        var truncate = config
        truncate["write_mode"] = "truncate"
        try write(.object(truncate), [batch(schema, [added])])
        #expect(try read(["path": .string(database), "query": "SELECT id FROM items"]).rows == [["4"]])

        var replace = config
        replace["write_mode"] = "replace"
        try write(.object(replace), [batch(schema, rows)])
        #expect(try read(["path": .string(database), "query": "SELECT count(*) FROM items"]).rows == [["3"]])
    }

    /// An append of a run records (run, step) in osiris_commits in its transaction; the writer then says
    /// it committed, and a second append of the same run and step is refused with nothing written.
    @Test func anAppendOfARunRecordsItsCommitOnce() throws {
        var step = context("sqlite.writer", mode: "write", config: ["path": .string(database), "table": "items"], folder: folder)
        step.runID = "20261203T000000Z-marker"
        step.manifestFingerprint = "sha256:abc"
        #expect(try SQLiteWriter().hasCommitted(step) == false)
        try SQLiteWriter().write(step, input: FixedSource(stepID: "up", schema: schema, batches: [batch(schema, rows)]))
        #expect(try SQLiteWriter().hasCommitted(step) == true)
        #expect(try read(["path": .string(database), "query": "SELECT run_id, step_id, manifest_fp, target_table, rows_written FROM osiris_commits"]).rows
            == [["20261203T000000Z-marker", "step", "sha256:abc", "items", "3"]])
        #expect(throws: StepError.self) {
            try SQLiteWriter().write(step, input: FixedSource(stepID: "up", schema: self.schema, batches: [batch(self.schema, self.rows)]))
        }
        #expect(try read(["path": .string(database), "query": "SELECT count(*) FROM items"]).rows == [["3"]])
        var other = step
        other.runID = "20261203T000000Z-other"
        #expect(try SQLiteWriter().hasCommitted(other) == false)
    }

    @Test func failedWriteLeavesTheTargetAsItWas() throws {
        try write(["path": .string(database), "table": "items", "primary_key": ["id"]], [batch(schema, rows)])
        // The second batch repeats an id of the first: the insert into the target fails and rolls back whole.
        let duplicate = batch(schema, [rows[0]])
        let fresh: [Value] = [.int64(9), .text("new", .text), .null, .null, .null]
        #expect(throws: StepError.self) {
            try write(["path": .string(database), "table": "items"], [batch(schema, [fresh]), duplicate])
        }
        #expect(try read(["path": .string(database), "query": "SELECT group_concat(id) FROM items"]).rows == [["1,2,3"]])
    }

    @Test func upsertIntoATableWithoutAKeySaysSo() throws {
        try write(["path": .string(database), "table": "plain"], [batch(schema, rows)])
        do {
            try write(["path": .string(database), "table": "plain", "write_mode": "upsert", "primary_key": ["id"]], [batch(schema, rows)])
            Issue.record("upsert without a unique index succeeded")
        } catch {
            #expect(error.message == "upsert into 'plain' needs a primary key or unique index on (id)")
        }
    }

    @Test func processorSeesEveryInputName() throws {
        let one = FixedSource(stepID: "extract-a", schema: schema, batches: [batch(schema, rows)])
        let sink = CollectingSink()
        let query = "SELECT (SELECT count(*) FROM df_extract_a), (SELECT count(*) FROM \"extract-a\"), (SELECT count(*) FROM input_df)"
        try SQLiteProcessor().process(
            context("sqlite.processor", mode: "transform", config: ["query": .string(query)], folder: folder), inputs: [one], output: sink)
        #expect(sink.rows == [["3", "3", "3"]])
        #expect(SQLiteProcessor.tableName(for: "9 lives.v2") == "df_9_lives_v2")
    }

    @Test func processorSettingsBoundTheSorterAndHonourTheBudget() throws {
        let database = try SQLiteDatabase(path: "", create: true)
        try database.execute(SQLiteProcessor.settings(memoryBudget: 48 << 20))
        func value(_ pragma: String) throws -> String {
            let statement = try database.prepare("PRAGMA \(pragma)")
            #expect(try statement.step())
            return statement.text(0)
        }
        #expect(try value("cache_size") == "-1000")
        #expect(try value("temp_store") == "1")
        #expect(try value("journal_mode") == "off")
        #expect(try value("soft_heap_limit") == "\(48 << 20)")
        // SQLite caps the sorter's threads at what it was built with (8 for Debian's library).
        #expect(try value("threads") == "\(SQLiteProcessor.sorterThreads)")
        #expect(SQLiteProcessor.sorterThreads == min(2 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 8))
    }

    @Test func badQueryIsARunErrorNamingTheStep() {
        do {
            try SQLiteProcessor().process(
                context("sqlite.processor", mode: "transform", config: ["query": "SELEC 1"], folder: folder), inputs: [],
                output: CollectingSink())
            Issue.record("bad SQL succeeded")
        } catch {
            #expect(error.code == .run)
            #expect(error.message.hasPrefix("query of step 'step' fails: near \"SELEC\""))
        }
    }

    @Test(arguments: [
        ("INTEGER", LogicalType.int64), ("BIGINT", .int64), ("VARCHAR(20)", .text), ("NUMERIC(10,2)", .decimal),
        ("REAL", .float64), ("DOUBLE PRECISION", .float64), ("BOOLEAN", .bool), ("TIMESTAMP", .timestamp),
        ("TIMESTAMPTZ", .timestamptz), ("DATE", .date), ("BLOB", .bytes), ("JSON", .json),
    ])
    func declaredTypesMap(declared: String, type: LogicalType) {
        #expect(SQLiteTypes.logicalType(declared: declared) == type)
        if type != .int64 || declared == "INTEGER" {
            #expect(SQLiteTypes.logicalType(declared: SQLiteTypes.declaredType(type)) == type)
        }
    }

    @Test func missingDatabaseIsAClearError() {
        do {
            _ = try read(["path": "/nonexistent/shop.db", "table": "t"])
            Issue.record("read a missing database")
        } catch {
            #expect(error.message == "SQLite database '/nonexistent/shop.db' does not exist")
        }
    }
}

@Suite final class FileDriverTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }

    @Test func csvWriterReplacesTheFileAtomically() throws {
        let target = folder.appendingPathComponent("out.csv")
        try Data("old\n".utf8).write(to: target)
        let schema = Schema([Field(name: "a", type: .text)])
        let progress = RecordingProgress()
        var step = context("filesystem.csv_writer", mode: "write", config: ["path": .string(target.path)], folder: folder)
        step.progress = progress
        try CSVFileWriter().write(step, input: FixedSource(stepID: "up", schema: schema, batches: [batch(schema, [[.text("x", .text)]])]))
        #expect(try String(contentsOf: target, encoding: .utf8) == "a\nx\n")
        #expect(progress.artifacts == [target.path])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.csv"])
    }

    @Test func cancelledWriteKeepsTheOldFile() throws {
        let target = folder.appendingPathComponent("keep.csv")
        try Data("old\n".utf8).write(to: target)
        let schema = Schema([Field(name: "a", type: .text)])
        let step = context("filesystem.csv_writer", mode: "write", config: ["path": .string(target.path)], folder: folder)
        step.cancellation.cancel()
        #expect(throws: StepError.self) {
            try CSVFileWriter().write(step, input: FixedSource(stepID: "up", schema: schema, batches: [batch(schema, [[.text("x", .text)]])]))
        }
        #expect(try String(contentsOf: target, encoding: .utf8) == "old\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["keep.csv"])
    }

    @Test func unsupportedEncodingIsAClearError() {
        let path = folder.appendingPathComponent("x.csv").path
        let step = context("filesystem.csv_extractor", mode: "extract", config: ["path": .string(path), "encoding": "latin-1"], folder: folder)
        #expect(FileManager.default.createFile(atPath: path, contents: Data("a\n1\n".utf8)))
        do {
            try CSVFileExtractor().extract(step, output: CollectingSink())
            Issue.record("latin-1 accepted")
        } catch {
            #expect(error.message.contains("encoding 'latin-1' is not supported yet"))
        }
    }
}

@Suite final class StreamingInputTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }
    let schema = Schema([Field(name: "n", type: .int64), Field(name: "amount", type: .decimal), Field(name: "label", type: .text)])

    func run(_ query: String, batches: Int = 3) throws -> [[String]] {
        var input: [RecordBatch] = []
        for part in 0..<batches {
            input.append(batch(schema, (0..<4).map { offset -> [Value] in
                let n = part * 4 + offset
                return [.int64(Int64(n)), n % 5 == 0 ? .null : .text("\(n * 10).50", .decimal), .text("row \(n)", .text)]
            }))
        }
        let sink = CollectingSink()
        try SQLiteProcessor().process(
            context("sqlite.processor", mode: "transform", config: ["query": .string(query)], folder: folder),
            inputs: [FixedSource(stepID: "in-put", schema: schema, batches: input)], output: sink)
        return sink.rows
    }

    @Test func streamedAndLoadedInputsGiveTheSameRows() throws {
        let streamed = try run("SELECT n, amount, label FROM input_df WHERE amount > 50 ORDER BY n DESC")
        let loaded = try run("WITH x AS (SELECT * FROM input_df) SELECT n, amount, label FROM x WHERE amount > 50 ORDER BY n DESC")
        #expect(streamed == loaded)
        #expect(streamed.first == ["11", "110.5", "row 11"])
        #expect(streamed.count == 5)
    }

    @Test(arguments: ["0.1", "-12.345", "401.00", "1234567890.12345", "7.12345678901234567", "-0.5", "1e3", "abc", "12."])
    func streamedDecimalsAreWhatATableWouldHold(_ text: String) throws {
        let schema = Schema([Field(name: "amount", type: .decimal)])
        func run(_ query: String) throws -> [[String]] {
            let sink = CollectingSink()
            try SQLiteProcessor().process(
                context("sqlite.processor", mode: "transform", config: ["query": .string(query)], folder: folder),
                inputs: [FixedSource(stepID: "d", schema: schema, batches: [batch(schema, [[.text(text, .decimal)]])])], output: sink)
            return sink.rows
        }
        let streamed = try run("SELECT amount, typeof(amount), amount * 2 FROM input_df")
        let loaded = try run("WITH x AS (SELECT * FROM input_df) SELECT amount, typeof(amount), amount * 2 FROM x")
        #expect(streamed == loaded)
    }

    @Test func everyInputNameStreams() throws {
        #expect(try run("SELECT count(*) FROM df_in_put") == [["12"]])
        #expect(try run("SELECT count(*) FROM \"in-put\"") == [["12"]])
        #expect(try run("SELECT sum(amount) FROM input_df") == [["514.5"]])
        #expect(try run("SELECT sum(amount) FROM input_df") == (try run("WITH x AS (SELECT * FROM input_df) SELECT sum(amount) FROM x")))
    }

    @Test func queriesThatReadTheInputTwiceAreLoaded() throws {
        #expect(SQLiteStreamTable.canStream("SELECT * FROM input_df", names: ["input_df"]))
        #expect(!SQLiteStreamTable.canStream("SELECT * FROM input_df a JOIN input_df b ON a.n = b.n", names: ["input_df"]))
        #expect(!SQLiteStreamTable.canStream("SELECT * FROM input_df WHERE n > (SELECT avg(n) FROM input_df)", names: ["input_df"]))
        #expect(!SQLiteStreamTable.canStream("WITH x AS (SELECT * FROM input_df) SELECT * FROM x", names: ["input_df"]))
        #expect(try run("SELECT count(*) FROM input_df a JOIN input_df b ON a.n = b.n") == [["12"]])
    }
}
