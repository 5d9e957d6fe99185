import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Synchronization
import Testing

@Suite struct MySQLWriterTests {
    static let pair = Schema([Field(name: "id", type: .int64, nullable: false), Field(name: "label", type: .text)])

    func context(_ config: JSONValue, connection: ResolvedConnection = TestMariaDB.connection(), masker: SecretMasker = SecretMasker())
        -> StepContext {
        StepContext(
            step: ManifestStep(id: "step", component: "mysql.writer", mode: .write, needs: [], connection: nil, config: config,
                               retry: RetryPolicy(attempts: 1, backoffMilliseconds: 0)),
            connection: connection, cancellation: CancellationToken(), progress: RecordingProgress(),
            temporaryDirectory: NSTemporaryDirectory(), memoryBudget: 64 << 20, masker: masker)
    }

    func write(_ config: JSONValue, _ schema: Schema, _ rows: [[Value]], localInfile: Bool = true) throws(StepError) {
        try write(config, source: FixedSource(stepID: "up", schema: schema, batches: [batch(schema, rows)]), localInfile: localInfile)
    }

    func write(_ config: JSONValue, source: any BatchSource, localInfile: Bool = true,
               connection: ResolvedConnection = TestMariaDB.connection()) throws(StepError) {
        try MySQLWriter(localInfile: localInfile).write(context(config, connection: connection), input: source)
    }

    /// Every row of `sql` as text, read in UTC.
    func rows(_ sql: String) throws -> [[String?]] {
        let connection = try MySQLConnection(TestMariaDB.connection(), masker: SecretMasker())
        try connection.execute("SET time_zone = '+00:00'")
        return try connection.rows(sql)
    }

    /// The tables whose name starts with `prefix` (staging leftovers included).
    func tables(_ prefix: String) throws -> [String] {
        try rows("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE '\(prefix)%' ORDER BY 1")
            .map { $0[0] ?? "" }
    }

    func pairs(_ values: [(Int64, String?)]) -> [[Value]] {
        values.map { [.int64($0.0), $0.1.map { .text($0, .text) } ?? .null] }
    }

    // MARK: encoding, no server

    @Test func timestampsWithZonesAreConvertedToUTC() {
        func utc(_ text: String) -> String {
            let output = Buffer<UInt8>(capacity: 1 << 16)
            var text = text
            text.withUTF8 { MySQLLoadEncoding.appendUTC(UnsafeRawBufferPointer($0), to: output, sql: false) }
            return String(decoding: output.bytes, as: UTF8.self)
        }
        #expect(utc("2024-05-01T13:45:00+02:00") == "2024-05-01 11:45:00")
        #expect(utc("2024-05-01 13:45:00.123456+02:00") == "2024-05-01 11:45:00.123456")
        #expect(utc("2024-05-01T13:45:00Z") == "2024-05-01 13:45:00")
        #expect(utc("2024-05-01T13:45:00") == "2024-05-01 13:45:00")
        #expect(utc("2024-03-01T01:00:00.5+0530") == "2024-02-29 19:30:00.5")
        #expect(utc("2023-12-31T20:00:00-08") == "2024-01-01 04:00:00")
        #expect(utc("2024-05-01 11:45:00+00") == "2024-05-01 11:45:00")
        #expect(utc("1969-12-31T23:00:00-01:00") == "1970-01-01 00:00:00")
        #expect(utc("not a time") == "not a time")
    }

    @Test func rowsAreEncodedAsEscapedTabSeparatedText() {
        let schema = Schema([
            Field(name: "b", type: .bool), Field(name: "i", type: .int64), Field(name: "t", type: .text),
            Field(name: "x", type: .bytes), Field(name: "ts", type: .timestamp), Field(name: "f", type: .float64),
        ])
        let rows = batch(schema, [
            [.bool(true), .int64(-42), .text("a\tb\nc\\d", .text), .bytes([0, 0xff, 0x5c]), .text("2024-05-01T13:45:00", .timestamp), .float64(0.5)],
            [.bool(false), .null, .text("", .text), .bytes([]), .null, .null],
        ])
        let output = Buffer<UInt8>(capacity: 1 << 16)
        MySQLLoadEncoding.appendTabSeparated(rows, to: output)
        let expected = Array("1\t-42\ta\\tb\\nc\\\\d\t\\0".utf8) + [0xff] + Array("\\\\\t2024-05-01 13:45:00\t0.5\n0\t\\N\t\t\t\\N\t\\N\n".utf8)
        #expect(Array(output.bytes) == expected)
        output.count = 0
        MySQLLoadEncoding.appendSQLRow(rows, 0, to: output)
        #expect(String(decoding: output.bytes, as: UTF8.self) == "(1,-42,'a\tb\\nc\\\\d',X'00ff5c','2024-05-01 13:45:00',0.5)")
    }

    @Test func createdColumnTypes() throws {
        let schema = Schema([
            Field(name: "k", type: .text, nullable: false), Field(name: "d", type: .decimal, precision: 12, scale: 3),
            Field(name: "n", type: .decimal), Field(name: "u", type: .uuid),
        ])
        #expect(try MySQLTypes.tableDefinition(schema, primaryKey: ["k"], hasUUID: true)
            == "`k` VARCHAR(255) NOT NULL, `d` DECIMAL(12,3) NULL, `n` DECIMAL(65,30) NULL, `u` UUID NULL, PRIMARY KEY (`k`)")
        #expect(throws: StepError.self) {
            try MySQLTypes.tableDefinition(Schema([Field(name: "d", type: .decimal, precision: 70, scale: 2)]), primaryKey: [], hasUUID: true)
        }
    }

    @Test func configIsReadWithTheOriginalToolsAliases() throws {
        let connection = ResolvedConnection(reference: "@mysql.x", family: "mysql", fields: ["database": "shop"])
        let plain = try MySQLWriter.plan(context(["table": "t"], connection: connection))
        #expect(plain.database == "shop" && plain.table == "t" && plain.mode == "append" && !plain.truncate && plain.createTable)
        #expect(plain.target == "`shop`.`t`" && plain.batchSize == 1000)
        let aliased = try MySQLWriter.plan(context(["table": "db.t`x", "mode": "upsert", "upsert_keys": ["a", "b"]], connection: connection))
        #expect(aliased.database == "db" && aliased.mode == "upsert" && aliased.primaryKey == ["a", "b"] && aliased.target == "`db`.`t``x`")
        let truncating = try MySQLWriter.plan(context(["table": "t", "schema": "other", "truncate_before": true, "primary_key": "id"], connection: connection))
        #expect(truncating.database == "other" && truncating.truncate && truncating.primaryKey == ["id"])
        #expect(throws: StepError.self) { try MySQLWriter.plan(context(["table": "t", "write_mode": "upsert"], connection: connection)) }
    }

    // MARK: modes

    @Test(.enabled(if: TestMariaDB.available)) func appendCreatesTheTableThenAppends() throws {
        try TestMariaDB.run(["DROP TABLE IF EXISTS w_append"])
        try write(["table": "w_append"], Self.pair, pairs([(1, "one"), (2, nil)]))
        try write(["table": "w_append", "write_mode": "append"], Self.pair, pairs([(3, "three")]))
        #expect(try rows("SELECT id, label FROM w_append ORDER BY id") == [["1", "one"], ["2", nil], ["3", "three"]])
        #expect(try rows("""
            SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'w_append' ORDER BY ORDINAL_POSITION
            """) == [["id", "bigint(20)", "NO"], ["label", "longtext", "YES"]])
        #expect(try tables("w_append") == ["w_append"])
    }

    /// An append of a run records (run, step) in osiris_commits in its transaction; the writer then says
    /// it committed, and a second append of the same run and step is refused, rolled back.
    @Test(.enabled(if: TestMariaDB.available)) func anAppendOfARunRecordsItsCommitOnce() throws {
        let table = "w_marker_" + UUID().uuidString.prefix(8).lowercased()
        try TestMariaDB.run(["CREATE TABLE \(table) (id BIGINT, label LONGTEXT) ENGINE=InnoDB"])
        defer { try? TestMariaDB.run(["DROP TABLE IF EXISTS \(table)"]) }
        var step = context(["table": .string(table), "write_mode": "append"])
        step.runID = "20261203T000000Z-" + table
        step.manifestFingerprint = "sha256:abc"
        #expect(try MySQLWriter().hasCommitted(step) == false)
        let source = { FixedSource(stepID: "up", schema: Self.pair, batches: [batch(Self.pair, self.pairs([(1, "one"), (2, nil)]))]) }
        try MySQLWriter().write(step, input: source())
        #expect(try MySQLWriter().hasCommitted(step) == true)
        #expect(try rows("SELECT step_id, manifest_fp, target_table, rows_written FROM osiris_commits WHERE run_id = '\(step.runID!)'")
            == [["step", "sha256:abc", "osiris_test.\(table)", "2"]])
        #expect(throws: StepError.self) { try MySQLWriter().write(step, input: source()) }
        #expect(try rows("SELECT COUNT(*) FROM \(table)") == [["2"]])
    }

    @Test(.enabled(if: TestMariaDB.available)) func replaceSwapsInExactlyTheNewRows() throws {
        try TestMariaDB.run([
            "DROP TABLE IF EXISTS w_replace",
            "CREATE TABLE w_replace (id BIGINT NOT NULL PRIMARY KEY, label VARCHAR(20), extra INT DEFAULT 7)",
            "INSERT INTO w_replace VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)",
        ])
        try write(["table": "w_replace", "write_mode": "replace"], Self.pair, pairs([(9, "nine"), (8, "eight")]))
        #expect(try rows("SELECT id, label, extra FROM w_replace ORDER BY id") == [["8", "eight", "7"], ["9", "nine", "7"]])
        // The table keeps its definition (LIKE the old one) and nothing is left behind.
        #expect(try rows("SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'w_replace' AND COLUMN_NAME = 'label'")
            == [["varchar(20)"]])
        #expect(try tables("w_replace") == ["w_replace"])
    }

    @Test(.enabled(if: TestMariaDB.available)) func upsertUpdatesAndInsertsExactlyTheRightRows() throws {
        try TestMariaDB.run([
            "DROP TABLE IF EXISTS w_upsert",
            "CREATE TABLE w_upsert (region VARCHAR(5) NOT NULL, id BIGINT NOT NULL, label VARCHAR(20), note VARCHAR(9) DEFAULT 'kept', PRIMARY KEY (region, id))",
            "INSERT INTO w_upsert VALUES ('eu', 1, 'a', 'n1'), ('eu', 2, 'b', 'n2'), ('us', 1, 'c', 'n3')",
        ])
        let schema = Schema([Field(name: "region", type: .text), Field(name: "id", type: .int64), Field(name: "label", type: .text)])
        try write(["table": "w_upsert", "write_mode": "upsert", "primary_key": ["region", "id"]], schema, [
            [.text("eu", .text), .int64(2), .text("B!", .text)],
            [.text("us", .text), .int64(2), .text("new", .text)],
            [.text("us", .text), .int64(1), .null],
        ])
        #expect(try rows("SELECT region, id, label, note FROM w_upsert ORDER BY region, id") == [
            ["eu", "1", "a", "n1"], ["eu", "2", "B!", "n2"], ["us", "1", nil, "n3"], ["us", "2", "new", "kept"],
        ])
    }

    @Test(.enabled(if: TestMariaDB.available)) func upsertNeedsAKeyOnExactlyThePrimaryKeyColumns() throws {
        try TestMariaDB.run([
            "DROP TABLE IF EXISTS w_upsert_key",
            "CREATE TABLE w_upsert_key (id BIGINT NOT NULL, label VARCHAR(20), PRIMARY KEY (id, label))",
        ])
        let error = try #require(throws: StepError.self) {
            try write(["table": "w_upsert_key", "write_mode": "upsert", "primary_key": "id"], Self.pair, pairs([(1, "x")]))
        }
        #expect(error.code == .configuration)
        #expect(error.message.contains("PRIMARY KEY or UNIQUE index on exactly (id)"))
        let missing = try #require(throws: StepError.self) { try write(["table": "w_upsert_key", "write_mode": "upsert"], Self.pair, []) }
        #expect(missing.code == .configuration)
        #expect(try rows("SELECT COUNT(*) FROM w_upsert_key") == [["0"]])
    }

    @Test(.enabled(if: TestMariaDB.available)) func upsertCreatesAMissingTableWithItsPrimaryKey() throws {
        try TestMariaDB.run(["DROP TABLE IF EXISTS w_upsert_new"])
        try write(["table": "w_upsert_new", "write_mode": "upsert", "primary_key": ["label"]], Self.pair, pairs([(1, "a"), (2, "b")]))
        try write(["table": "w_upsert_new", "write_mode": "upsert", "primary_key": ["label"]], Self.pair, pairs([(3, "a"), (4, "c")]))
        #expect(try rows("SELECT label, id FROM w_upsert_new ORDER BY label") == [["a", "3"], ["b", "2"], ["c", "4"]])
        #expect(try rows("SELECT COLUMN_TYPE, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'w_upsert_new' AND COLUMN_NAME = 'label'")
            == [["varchar(255)", "PRI"]])
    }

    @Test(.enabled(if: TestMariaDB.available)) func truncateReplacesTheRowsAndKeepsTheTable() throws {
        try TestMariaDB.run([
            "DROP TABLE IF EXISTS w_truncate",
            "CREATE TABLE w_truncate (id BIGINT NOT NULL PRIMARY KEY, label VARCHAR(20))",
            "INSERT INTO w_truncate VALUES (1, 'a'), (2, 'b')",
        ])
        try write(["table": "w_truncate", "write_mode": "truncate"], Self.pair, pairs([(2, "new"), (5, "e")]))
        #expect(try rows("SELECT id, label FROM w_truncate ORDER BY id") == [["2", "new"], ["5", "e"]])
        try write(["table": "w_truncate", "truncate_before": true], Self.pair, pairs([(7, "g")]))
        #expect(try rows("SELECT id, label FROM w_truncate ORDER BY id") == [["7", "g"]])
    }

    @Test(.enabled(if: TestMariaDB.available)) func anUnknownColumnIsAConfigurationErrorNamingIt() throws {
        try TestMariaDB.run(["DROP TABLE IF EXISTS w_columns", "CREATE TABLE w_columns (ID BIGINT, other INT)"])
        let error = try #require(throws: StepError.self) { try write(["table": "w_columns"], Self.pair, pairs([(1, "x")])) }
        #expect(error.code == .configuration)
        #expect(error.message.contains("column 'label' of the input is not a column of table 'osiris_test.w_columns'"))
        // Names match case-insensitively; columns the input lacks get their defaults.
        try write(["table": "w_columns"], Schema([Field(name: "id", type: .int64)]), [[.int64(4)]])
        #expect(try rows("SELECT ID, other FROM w_columns") == [["4", nil]])
    }

    // MARK: types

    static let allTypes = Schema([
        Field(name: "id", type: .int64, nullable: false), Field(name: "flag", type: .bool), Field(name: "big", type: .int64),
        Field(name: "ratio", type: .float64), Field(name: "amount", type: .decimal, precision: 20, scale: 3),
        Field(name: "name", type: .text), Field(name: "bin", type: .bytes), Field(name: "day", type: .date),
        Field(name: "clock", type: .time), Field(name: "moment", type: .timestamp), Field(name: "stamp", type: .timestamptz),
        Field(name: "doc", type: .json), Field(name: "ident", type: .uuid),
    ])

    @Test(.enabled(if: TestMariaDB.available), arguments: [true, false])
    func everyLogicalTypeIsWrittenAndReadBackExactly(localInfile: Bool) throws {
        let table = localInfile ? "w_types_infile" : "w_types_insert"
        try TestMariaDB.run(["DROP TABLE IF EXISTS \(table)"])
        let text = "it's \"quoted\" \\back\\slash\ttab\nnew line\r ünïcødé ✓ 🎉"
        try write(["table": .string(table), "primary_key": "id"], Self.allTypes, [
            [.int64(1), .bool(true), .int64(Int64.min), .float64(0.1), .text("-12345678901234567.125", .decimal), .text(text, .text),
             .bytes([0x00, 0xff, 0x09, 0x0a, 0x5c, 0x27]), .text("2024-02-29", .date), .text("13:45:00.25", .time),
             .text("2024-05-01T13:45:00.123456", .timestamp), .text("2024-05-01T13:45:00+02:00", .timestamptz),
             .text("{\"a\": [1, \"x\\ty\"]}", .json), .text("8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f", .uuid)],
            [.int64(2), .null, .null, .null, .null, .null, .null, .null, .null, .null, .null, .null, .null],
            [.int64(3), .bool(false), .int64(Int64.max), .float64(-2.5e-300), .text("0.500", .decimal), .text("", .text), .bytes([]),
             .text("1970-01-02", .date), .text("00:00:00", .time), .text("1999-12-31 23:59:59", .timestamp),
             .text("2038-01-19 03:14:07.5Z", .timestamptz), .text("null", .json), .text("00000000-0000-0000-0000-000000000000", .uuid)],
        ], localInfile: localInfile)
        let sink = CollectingSink()
        let extract = StepContext(
            step: ManifestStep(id: "read", component: "mysql.extractor", mode: .extract, needs: [], connection: nil,
                               config: ["query": .string("SELECT * FROM \(table) ORDER BY id")], retry: RetryPolicy(attempts: 1, backoffMilliseconds: 0)),
            connection: TestMariaDB.connection(), cancellation: CancellationToken(), progress: RecordingProgress(),
            temporaryDirectory: NSTemporaryDirectory(), memoryBudget: 64 << 20, masker: SecretMasker())
        try MySQLExtractor().extract(extract, output: sink)
        #expect(sink.schema?.fields.map(\.type) == [.int64, .int64, .int64, .float64, .decimal, .text, .bytes, .date, .time, .timestamp,
                                                     .timestamptz, .json, .uuid])
        #expect(sink.schema?.fields[4].precision == 20 && sink.schema?.fields[4].scale == 3)
        #expect(sink.rows == [
            ["1", "1", "-9223372036854775808", "0.1", "-12345678901234567.125", text, "\\x00ff090a5c27", "2024-02-29", "13:45:00.250000",
             "2024-05-01 13:45:00.123456", "2024-05-01T11:45:00.000000+00:00", "{\"a\": [1, \"x\\ty\"]}", "8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f"],
            ["2", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"],
            ["3", "0", "9223372036854775807", "-2.5e-300", "0.500", "", "\\x", "1970-01-02", "00:00:00.000000", "1999-12-31 23:59:59.000000",
             "2038-01-19T03:14:07.500000+00:00", "null", "00000000-0000-0000-0000-000000000000"],
        ])
    }

    @Test(.enabled(if: TestMariaDB.available)) func theInsertFallbackSendsBatchSizeRowsPerStatement() throws {
        try TestMariaDB.run(["DROP TABLE IF EXISTS w_fallback"])
        let values = (1...2_500).map { (Int64($0), Optional("row \($0)")) }
        let source = FixedSource(stepID: "up", schema: Self.pair, batches: [batch(Self.pair, pairs(Array(values[..<1_200]))),
                                                                           batch(Self.pair, pairs(Array(values[1_200...])))])
        let progress = RecordingProgress()
        var writeContext = context(["table": "w_fallback", "batch_size": 1000])
        writeContext.progress = progress
        try MySQLWriter(localInfile: false).write(writeContext, input: source)
        #expect(try rows("SELECT COUNT(*), SUM(id), MAX(label) FROM w_fallback") == [["2500", "3126250", "row 999"]])
        #expect(progress.rowsRead == 2_500)
        #expect(progress.rowsWritten == 2_500)
    }

    @Test(.enabled(if: TestMariaDB.available)) func aRefusedLocalInfileIsRecognisedSoTheWriterFallsBack() throws {
        try TestMariaDB.run(["DROP TABLE IF EXISTS w_refused", "CREATE TABLE w_refused (id INT)"])
        let connection = try MySQLConnection(TestMariaDB.connection(), masker: SecretMasker(), localInfile: false)
        let error = try #require(throws: StepError.self) { try connection.update("LOAD DATA LOCAL INFILE 'x' INTO TABLE w_refused") }
        #expect(error.message.contains("4166"))
        #expect(MySQLWriter.refusesLocalInfile(connection.errorNumber))
        #expect(!MySQLWriter.refusesLocalInfile(1064))
    }

    @Test(.enabled(if: TestMariaDB.available)) func aTimestampWithZoneOutsideTheRangeOfTIMESTAMPFailsLoudly() throws {
        try TestMariaDB.run(["DROP TABLE IF EXISTS w_range"])
        let schema = Schema([Field(name: "stamp", type: .timestamptz)])
        for localInfile in [true, false] {
            let error = try #require(throws: StepError.self) {
                try write(["table": "w_range"], schema, [[.text("2040-01-01T00:00:00Z", .timestamptz)]], localInfile: localInfile)
            }
            #expect(error.code == .run)
            #expect(error.message.contains("stamp"))
        }
        #expect(try tables("w_range") == [])
    }

    // MARK: losing nothing

    /// A target with three known rows, for the failure tests.
    func seed(_ table: String) throws {
        try TestMariaDB.run([
            "DROP TABLE IF EXISTS \(table)",
            "CREATE TABLE \(table) (id BIGINT NOT NULL PRIMARY KEY, label VARCHAR(20))",
            "INSERT INTO \(table) VALUES (1, 'a'), (2, 'b'), (3, 'c')",
        ])
    }

    static let seeded: [[String?]] = [["1", "a"], ["2", "b"], ["3", "c"]]

    @Test(.enabled(if: TestMariaDB.available), arguments: ["append", "replace", "upsert", "truncate"])
    func anInputThatFailsMidwayLeavesTheTargetAsItWas(mode: String) throws {
        let table = "w_fail_\(mode)"
        try seed(table)
        let batches = [batch(Self.pair, pairs([(2, "changed"), (10, "x")])), batch(Self.pair, pairs([(11, "y")]))]
        for localInfile in [true, false] {
            let error = try #require(throws: StepError.self) {
                try write(["table": .string(table), "write_mode": .string(mode), "primary_key": "id"],
                          source: FailingSource(schema: Self.pair, batches: batches), localInfile: localInfile)
            }
            #expect(error.code == .upstreamFailed)
            #expect(try rows("SELECT id, label FROM \(table) ORDER BY id") == Self.seeded)
            #expect(try tables(table) == [table])
        }
    }

    @Test(.enabled(if: TestMariaDB.available), arguments: ["append", "replace", "upsert", "truncate"])
    func aValueTheColumnRejectsLeavesTheTargetAsItWas(mode: String) throws {
        let table = "w_reject_\(mode)"
        try seed(table)
        for localInfile in [true, false] {
            // The second batch holds a label too long for VARCHAR(20).
            let source = FixedSource(stepID: "up", schema: Self.pair, batches: [
                batch(Self.pair, pairs([(2, "changed"), (10, "x")])), batch(Self.pair, pairs([(11, String(repeating: "z", count: 21))])),
            ])
            let error = try #require(throws: StepError.self) {
                try write(["table": .string(table), "write_mode": .string(mode), "primary_key": "id"], source: source, localInfile: localInfile)
            }
            #expect(error.code == .run)
            #expect(error.message.contains("1406") || error.message.contains("1265"))
            #expect(error.message.contains("label"))
            #expect(try rows("SELECT id, label FROM \(table) ORDER BY id") == Self.seeded)
            #expect(try tables(table) == [table])
        }
    }

    @Test(.enabled(if: TestMariaDB.available), arguments: ["append", "replace"])
    func theConnectionKilledMidLoadLeavesTheTargetAsItWas(mode: String) throws {
        let table = "w_killed_\(mode)"
        try seed(table)
        let killed = Mutex<String?>(nil)
        let source = FailingSource(schema: Self.pair, batches: (0..<4).map { batch(Self.pair, pairs([(Int64(100 + $0), "k")])) }, fails: false) { handed in
            guard handed == 2 else { return }
            // The writer waits on its input in the middle of LOAD DATA: kill its connection.
            if let id = try? self.rows("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'LOAD DATA LOCAL INFILE%\(table)\\_\\_osiris\\_stage%' AND ID <> CONNECTION_ID()").first?.first ?? nil {
                try? TestMariaDB.run(["KILL \(id)"])
                killed.withLock { $0 = id }
            }
        }
        let error = try #require(throws: StepError.self) {
            try write(["table": .string(table), "write_mode": .string(mode)], source: source)
        }
        #expect(killed.withLock { $0 } != nil)
        #expect(error.code == .connection)
        #expect(try rows("SELECT id, label FROM \(table) ORDER BY id") == Self.seeded)
        // Once the server has ended the killed session, the next run of the target drops what it left.
        let id = try #require(killed.withLock { $0 })
        for _ in 0..<100 where try !rows("SELECT ID FROM information_schema.PROCESSLIST WHERE ID = \(id)").isEmpty {
            Thread.sleep(forTimeInterval: 0.05)
        }
        try write(["table": .string(table), "write_mode": "append"], Self.pair, pairs([(4, "d")]))
        #expect(try tables(table) == [table])
        #expect(try rows("SELECT COUNT(*) FROM \(table)") == [["4"]])
    }

    @Test(.enabled(if: TestMariaDB.available), arguments: ["append", "replace"])
    func anInterruptedRunLeavesTheTargetAsItWas(mode: String) throws {
        let table = "w_cancel_\(mode)"
        try seed(table)
        let token = CancellationToken()
        // The runner's source throws once the run is cancelled, as this one does on its third call.
        let source = FailingSource(schema: Self.pair, batches: [batch(Self.pair, pairs([(7, "g")])), batch(Self.pair, pairs([(8, "h")]))]) { handed in
            if handed == 2 { token.cancel() }
        }
        source.cancellation = token
        var writeContext = context(["table": .string(table), "write_mode": .string(mode)])
        writeContext.cancellation = token
        let error = try #require(throws: StepError.self) { try MySQLWriter().write(writeContext, input: source) }
        #expect(error.code == .cancelled)
        #expect(try rows("SELECT id, label FROM \(table) ORDER BY id") == Self.seeded)
        #expect(try tables(table) == [table])
    }

    @Test(.enabled(if: TestMariaDB.available)) func leftoversOfAKilledReplaceAreDroppedByTheNextRun() throws {
        try seed("w_leftover")
        try TestMariaDB.run(["DROP TABLE IF EXISTS w_leftover__osiris_stage_notmine, w_leftover__osiris_stage_0badf00d, w_leftover__osiris_stage_0badf00e_old"])
        // What a replace killed after loading leaves: a staging table whose lock nobody holds.
        try TestMariaDB.run([
            "CREATE TABLE w_leftover__osiris_stage_0badf00d LIKE w_leftover",
            "CREATE TABLE w_leftover__osiris_stage_0badf00e_old LIKE w_leftover",
            "CREATE TABLE w_leftover__osiris_stage_notmine LIKE w_leftover",
        ])
        try write(["table": "w_leftover", "write_mode": "replace"], Self.pair, pairs([(5, "e")]))
        #expect(try tables("w_leftover") == ["w_leftover", "w_leftover__osiris_stage_notmine"])
        #expect(try rows("SELECT id, label FROM w_leftover") == [["5", "e"]])
    }

    @Test(.enabled(if: TestMariaDB.available)) func aTableWithoutTransactionsIsRefusedUnlessReplaced() throws {
        try TestMariaDB.run([
            "DROP TABLE IF EXISTS w_myisam",
            "CREATE TABLE w_myisam (id BIGINT NOT NULL PRIMARY KEY, label VARCHAR(20)) ENGINE=MyISAM",
            "INSERT INTO w_myisam VALUES (1, 'a')",
        ])
        let error = try #require(throws: StepError.self) { try write(["table": "w_myisam"], Self.pair, pairs([(2, "b")])) }
        #expect(error.code == .configuration)
        #expect(error.message.contains("engine MyISAM"))
        try write(["table": "w_myisam", "write_mode": "replace"], Self.pair, pairs([(2, "b")]))
        #expect(try rows("SELECT id, label FROM w_myisam") == [["2", "b"]])
    }

    @Test(.enabled(if: TestMariaDB.available)) func wrongPasswordIs77WithoutThePassword() throws {
        let password = "wrong-writer-Pw-0815"
        let masker = SecretMasker()
        masker.register(password)
        let error = try #require(throws: StepError.self) {
            try MySQLWriter().write(context(["table": "w_never"], connection: TestMariaDB.connection(["password": .string(password)]), masker: masker),
                                    input: FixedSource(stepID: "up", schema: Self.pair, batches: []))
        }
        #expect(error.exitStatus.rawValue == 77)
        #expect(!error.description.contains(password))
        #expect(!error.message.contains(password))
    }
}
