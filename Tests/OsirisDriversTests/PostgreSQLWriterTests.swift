import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Synchronization
import Testing

@Suite struct PostgreSQLCopyEncoderTests {
    @Test func everyTypeIsEncodedAsCopyText() throws {
        let schema = Schema([
            Field(name: "b", type: .bool), Field(name: "i", type: .int64), Field(name: "f", type: .float64),
            Field(name: "t", type: .text), Field(name: "x", type: .bytes), Field(name: "d", type: .decimal),
        ])
        let rows = batch(schema, [
            [.bool(true), .int64(-9_223_372_036_854_775_808), .float64(0.1), .text("a\\b\tc\nd\re 'q' ž", .text),
             .bytes([0, 255, 10]), .text("-12.50", .decimal)],
            [.bool(false), .int64(0), .float64(-.infinity), .text("", .text), .bytes([]), .null],
            [.null, .null, .float64(.nan), .null, .null, .null],
        ])
        let encoder = PostgreSQLCopyEncoder()
        encoder.ordinal = 7
        var output: [UInt8] = []
        try encoder.encode(rows) { output += $0 }
        try encoder.finish { output += $0 }
        #expect(String(decoding: output, as: UTF8.self) == """
            t\t-9223372036854775808\t0.1\ta\\\\b\\tc\\nd\\re 'q' ž\t\\\\x00ff0a\t-12.50\t7
            f\t0\t-Infinity\t\t\\\\x\t\\N\t8
            \\N\t\\N\tNaN\t\\N\t\\N\t\\N\t9

            """)
        #expect(encoder.ordinal == 10)
    }

    @Test func largeInputsGoOutInChunksOfWholeRows() throws {
        let schema = Schema([Field(name: "t", type: .text)])
        let text = String(repeating: "x", count: 39)
        let rows = batch(schema, Array(repeating: [Value.text(text, .text)], count: 40_000))
        let encoder = PostgreSQLCopyEncoder()
        var chunks: [[UInt8]] = []
        try encoder.encode(rows) { chunks.append(Array($0)) }
        try encoder.finish { chunks.append(Array($0)) }
        // 40-byte rows: the first chunk ends with the row that reaches 1 MiB (1,048,576 bytes).
        #expect(chunks.map(\.count) == [1_048_600, 1_600_000 - 1_048_600])
        #expect(chunks.allSatisfy { $0.last == 0x0A })
    }

    @Test func logicalTypesMapToPostgreSQLTypes() {
        let schema = Schema([
            Field(name: "a", type: .bool, nullable: false), Field(name: "b", type: .int64), Field(name: "c", type: .float64),
            Field(name: "d", type: .decimal, precision: 12, scale: 2), Field(name: "e", type: .decimal),
            Field(name: "f", type: .text), Field(name: "g", type: .bytes), Field(name: "h", type: .date), Field(name: "i", type: .time),
            Field(name: "j", type: .timestamp), Field(name: "k", type: .timestamptz), Field(name: "l", type: .json),
            Field(name: "m\"n", type: .uuid),
        ])
        #expect(PostgreSQLTypes.columnDefinitions(schema) == """
            "a" boolean NOT NULL, "b" bigint, "c" double precision, "d" numeric(12,2), "e" numeric, "f" text, "g" bytea, \
            "h" date, "i" time, "j" timestamp, "k" timestamptz, "l" json, "m""n" uuid
            """)
    }
}

@Suite(.enabled(if: TestPostgres.isAvailable, "needs OSIRIS_TEST_PG_URL (run under scripts/with-servers)"))
final class PostgreSQLWriterTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }

    static let schema = Schema([Field(name: "id", type: .int64), Field(name: "name", type: .text)])

    func admin() throws -> PostgreSQLConnection { try PostgreSQLConnection(TestPostgres.connection(), masker: SecretMasker()) }

    func step(_ config: JSONValue, component: String = "postgres.writer", connection: ResolvedConnection = TestPostgres.connection(),
              masker: SecretMasker = SecretMasker(), progress: RecordingProgress = RecordingProgress()) -> StepContext {
        var step = context(component, mode: "write", config: config, folder: folder)
        step.connection = connection
        step.masker = masker
        step.progress = progress
        return step
    }

    func write(_ config: JSONValue, _ rows: [[Value]], schema: Schema = PostgreSQLWriterTests.schema,
               component: String = "postgres.writer") throws(StepError) {
        let source = FixedSource(stepID: "up", schema: schema, batches: [batch(schema, rows)])
        try PostgreSQLWriter().write(step(config, component: component), input: source)
    }

    /// Every row of a table as text, ordered by its first column.
    func contents(_ table: String, _ database: PostgreSQLConnection) throws -> [[String?]] {
        try database.rows("SELECT * FROM \(table) ORDER BY 1")
    }

    /// Tables the writers may have left behind, in any schema.
    func leftovers(_ database: PostgreSQLConnection) throws -> [[String?]] {
        try database.rows("SELECT relname FROM pg_class WHERE relname LIKE 'osiris\\_staging%' OR relname LIKE 'osiris\\_replace\\_%'")
    }

    @Test func appendCreatesTheTableThenAppends() throws {
        let table = TestPostgres.uniqueName("pgw_append")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        let progress = RecordingProgress()
        let source = FixedSource(stepID: "up", schema: Self.schema, batches: [batch(Self.schema, [[.int64(1), .text("a", .text)]])])
        try PostgreSQLWriter().write(step(["table": .string(table), "primary_key": "id"], progress: progress), input: source)
        try write(["table": .string("public." + table), "schema": "elsewhere"], [[.int64(2), .text("b", .text)], [.int64(3), .null]])
        #expect(try contents(table, database) == [["1", "a"], ["2", "b"], ["3", nil]])
        #expect(progress.rowsRead == 1 && progress.rowsWritten == 1)
        let created = try database.rows("""
            SELECT attname, format_type(atttypid, atttypmod), attnotnull::text FROM pg_attribute
            WHERE attrelid = 'public.\(table)'::regclass AND attnum > 0 ORDER BY attnum
            """)
        #expect(created == [["id", "bigint", "true"], ["name", "text", "false"]])
        #expect(try database.rows("SELECT conname FROM pg_constraint WHERE conrelid = 'public.\(table)'::regclass") == [["\(table)_pkey"]])
    }

    /// An append of a run records (run, step) in osiris_commits of the target's schema; the writer
    /// then says it committed, and a second append of the same run and step is refused, rolled back.
    @Test func anAppendOfARunRecordsItsCommitOnce() throws {
        let schema = TestPostgres.uniqueName("pgw_marker")
        let database = try admin()
        try database.execute("CREATE SCHEMA \(schema); CREATE TABLE \(schema).t (id bigint, name text)")
        defer { try? database.execute("DROP SCHEMA \(schema) CASCADE") }
        var context = step(["table": .string("\(schema).t")])
        context.runID = "20261203T000000Z-marker"
        context.manifestFingerprint = "sha256:abc"
        #expect(try PostgreSQLWriter().hasCommitted(context) == false)
        let rows = [[Value.int64(1), .text("a", .text)], [.int64(2), .null]]
        try PostgreSQLWriter().write(context, input: FixedSource(stepID: "up", schema: Self.schema, batches: [batch(Self.schema, rows)]))
        #expect(try PostgreSQLWriter().hasCommitted(context) == true)
        #expect(try database.rows("SELECT run_id, step_id, manifest_fp, target_table, rows_written::text FROM \(schema).osiris_commits")
            == [["20261203T000000Z-marker", "step", "sha256:abc", "\(schema).t", "2"]])
        do {
            try PostgreSQLWriter().write(context, input: FixedSource(stepID: "up", schema: Self.schema, batches: [batch(Self.schema, rows)]))
            Issue.record("a second append of the same run and step was written")
        } catch {
            #expect(error.code == .run)
            #expect(error.message.contains("has already committed its append"))
        }
        #expect(try database.rows("SELECT count(*)::text FROM \(schema).t") == [["2"]])
        // Another run, or the same run's other step, has no marker; replace records none.
        var other = context
        other.runID = "20261203T000000Z-other"
        #expect(try PostgreSQLWriter().hasCommitted(other) == false)
        var replace = step(["table": .string("\(schema).t"), "write_mode": "replace"])
        replace.runID = context.runID
        #expect(try PostgreSQLWriter().hasCommitted(replace) == false)
    }

    @Test func replaceSwapsInANewTableOfTheInputsColumns() throws {
        let table = TestPostgres.uniqueName("pgw_replace")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("CREATE TABLE \(table) (id int4 PRIMARY KEY, old text, extra int); INSERT INTO \(table) VALUES (1, 'x', 5), (9, 'y', 6)")
        try write(["table": .string(table), "write_mode": "replace", "primary_key": ["id"]], [[.int64(2), .text("b", .text)], [.int64(1), .text("a", .text)]])
        #expect(try contents(table, database) == [["1", "a"], ["2", "b"]])
        #expect(try database.rows("SELECT conname FROM pg_constraint WHERE conrelid = 'public.\(table)'::regclass") == [["\(table)_pkey"]])
        #expect(try database.rows("SELECT count(*)::text FROM pg_attribute WHERE attrelid = 'public.\(table)'::regclass AND attnum > 0") == [["2"]])
        #expect(try leftovers(database) == [])
    }

    @Test func replaceRefusesATableAViewDependsOnAndChangesNothing() throws {
        let table = TestPostgres.uniqueName("pgw_replace_view")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table) CASCADE") }
        try database.execute("CREATE TABLE \(table) (id int8, name text); INSERT INTO \(table) VALUES (1, 'x'); CREATE VIEW \(table)_v AS SELECT * FROM \(table)")
        let error = #expect(throws: StepError.self) {
            try self.write(["table": .string(table), "write_mode": "replace"], [[.int64(2), .text("b", .text)]])
        }
        #expect(error?.code == .run)
        #expect(error?.message.hasPrefix("write_mode replace cannot drop table 'public.\(table)': cannot drop table \(table) because other objects depend on it") == true)
        #expect(try contents(table, database) == [["1", "x"]])
        #expect(try contents("\(table)_v", database) == [["1", "x"]])
    }

    @Test func upsertUpdatesAndInsertsExactlyTheRightRows() throws {
        let table = TestPostgres.uniqueName("pgw_upsert")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("""
            CREATE TABLE \(table) (id int4 PRIMARY KEY, name text, untouched text DEFAULT 'd');
            INSERT INTO \(table) VALUES (1, 'one', 'u1'), (2, 'two', 'u2'), (3, 'three', 'u3')
            """)
        // Key 4 twice: the last row of a key wins, as if the rows were upserted one after another.
        try write(["table": .string(table), "write_mode": "upsert", "primary_key": "id"], [
            [.int64(2), .text("TWO", .text)], [.int64(4), .text("four?", .text)], [.int64(3), .null], [.int64(4), .text("four", .text)],
        ])
        #expect(try contents(table, database) == [["1", "one", "u1"], ["2", "TWO", "u2"], ["3", nil, "u3"], ["4", "four", "d"]])
        #expect(try leftovers(database) == [])
    }

    @Test func upsertIntoANewTableCreatesItWithTheKey() throws {
        let table = TestPostgres.uniqueName("pgw_upsert_new")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        let config: JSONValue = ["table": .string(table), "write_mode": "upsert", "primary_key": ["id"]]
        try write(config, [[.int64(1), .text("a", .text)], [.int64(1), .text("b", .text)]])
        try write(config, [[.int64(1), .text("c", .text)], [.int64(2), .text("d", .text)]])
        #expect(try contents(table, database) == [["1", "c"], ["2", "d"]])
    }

    @Test func upsertWithoutAUniqueConstraintIsAConfigurationErrorNamingTheColumns() throws {
        let table = TestPostgres.uniqueName("pgw_nokey")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("CREATE TABLE \(table) (id int8, name text); INSERT INTO \(table) VALUES (1, 'x')")
        let error = #expect(throws: StepError.self) {
            try self.write(["table": .string(table), "write_mode": "upsert", "primary_key": ["id", "name"]], [[.int64(1), .text("y", .text)]])
        }
        #expect(error?.code == .configuration)
        #expect(error?.message == "write_mode upsert needs a primary key or unique constraint on (id, name) of table 'public.\(table)', and it has none")
        #expect(try contents(table, database) == [["1", "x"]])
    }

    @Test func truncateEmptiesTheTableAndKeepsItsDefinition() throws {
        let table = TestPostgres.uniqueName("pgw_truncate")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("CREATE TABLE \(table) (id int4 PRIMARY KEY, name varchar(5), note text); INSERT INTO \(table) VALUES (1, 'x', 'n'), (5, 'y', 'n')")
        try write(["table": .string(table), "write_mode": "truncate"], [[.int64(7), .text("z", .text)], [.int64(1), .text("w", .text)]])
        #expect(try contents(table, database) == [["1", "w", nil], ["7", "z", nil]])
        #expect(try database.rows("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'public.\(table)'::regclass AND attname = 'name'") == [["character varying(5)"]])
    }

    @Test func configurationErrorsNameTheTableOrColumn() throws {
        let table = TestPostgres.uniqueName("pgw_config")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        let missing = #expect(throws: StepError.self) {
            try self.write(["table": .string(table), "create_table": false], [[.int64(1), .text("a", .text)]])
        }
        #expect(missing?.code == .configuration)
        #expect(missing?.message == "table 'public.\(table)' does not exist and create_table is false")
        let supabase = #expect(throws: StepError.self) {
            try self.write(["table": .string(table)], [[.int64(1), .text("a", .text)]], component: "supabase.writer")
        }
        #expect(supabase?.message == "table 'public.\(table)' does not exist and create_if_missing is false")
        try database.execute("CREATE TABLE \(table) (id int8)")
        let column = #expect(throws: StepError.self) { try self.write(["table": .string(table)], [[.int64(1), .text("a", .text)]]) }
        #expect(column?.code == .configuration)
        #expect(column?.message == "input column 'name' is not a column of table 'public.\(table)' (its columns: id)")
        #expect(column?.exitStatus.rawValue == 78)
    }

    @Test func everyLogicalTypeIsWrittenAndReadBackExactly() throws {
        let table = TestPostgres.uniqueName("pgw_types")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        let schema = Schema([
            Field(name: "id", type: .int64), Field(name: "ok", type: .bool), Field(name: "big", type: .int64), Field(name: "f", type: .float64),
            Field(name: "price", type: .decimal, precision: 20, scale: 4), Field(name: "free", type: .decimal), Field(name: "t", type: .text),
            Field(name: "raw", type: .bytes), Field(name: "day", type: .date), Field(name: "at", type: .time), Field(name: "ts", type: .timestamp),
            Field(name: "tz", type: .timestamptz), Field(name: "doc", type: .json), Field(name: "key", type: .uuid),
        ])
        let rows: [[Value]] = [
            [.int64(1), .bool(true), .int64(9_223_372_036_854_775_807), .float64(0.1), .text("12345678901234.5000", .decimal),
             .text("0.000000000000000000001", .decimal), .text("tab\there\nnew\rcr 'q' \"dq\" \\ back žluťoučký 🐎", .text),
             .bytes([0, 255, 10, 92, 9]), .text("2024-02-29", .date), .text("13:45:00.25", .time),
             .text("2024-05-01 13:45:00.123456", .timestamp), .text("2024-05-01T11:45:00+00:00", .timestamptz),
             .text("{\"b\": 1,  \"a\": [1, 2]}", .json), .text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", .uuid)],
            [.int64(2), .bool(false), .int64(-9_223_372_036_854_775_808), .float64(-1e308), .text("-0.0001", .decimal),
             .text("-5", .decimal), .text("", .text), .bytes([]), .text("0001-01-01", .date), .text("00:00:00", .time),
             .text("1999-12-31 23:59:59.5", .timestamp), .text("2000-01-01T07:59:59.5+00:00", .timestamptz), .text("null", .json),
             .text("00000000-0000-0000-0000-000000000000", .uuid)],
            [.int64(3)] + Array(repeating: Value.null, count: 13),
        ]
        let written = batch(schema, rows)
        try PostgreSQLWriter().write(step(["table": .string(table)]), input: FixedSource(stepID: "up", schema: schema, batches: [written]))
        let sink = CollectingSink()
        var read = context("postgres.extractor", mode: "extract", config: ["query": .string("SELECT * FROM \(table) ORDER BY id")], folder: folder)
        read.connection = TestPostgres.connection()
        try PostgreSQLExtractor().extract(read, output: sink)
        #expect(sink.schema == schema)
        let expected = (0..<written.count).map { row in written.columns.map { $0.isNull(row) ? "NULL" : $0.string(row) } }
        #expect(sink.rows == expected)
        // A zone other than UTC arrives as the same instant.
        try write(["table": .string(table + "_z")], [[.int64(1), .text("2024-05-01T13:45:00+02:00", .timestamptz)]],
                  schema: Schema([Field(name: "id", type: .int64), Field(name: "tz", type: .timestamptz)]))
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)_z") }
        #expect(try database.rows("SELECT tz = '2024-05-01 11:45:00+00' FROM \(table)_z") == [["t"]])
    }

    @Test(arguments: ["append", "replace", "truncate", "upsert"])
    func anInputThatFailsMidwayLeavesTheTargetAsItWas(_ mode: String) throws {
        let table = TestPostgres.uniqueName("pgw_fail")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("CREATE TABLE \(table) (id int8 PRIMARY KEY, name text); INSERT INTO \(table) VALUES (1, 'x'), (2, 'y')")
        let many = (10..<70_010).map { [Value.int64(Int64($0)), .text("row \($0)", .text)] }
        let source = FailingSource(schema: Self.schema, batches: [batch(Self.schema, many), batch(Self.schema, [[.int64(1), .text("z", .text)]])])
        let error = #expect(throws: StepError.self) {
            try PostgreSQLWriter().write(self.step(["table": .string(table), "write_mode": .string(mode), "primary_key": "id"]), input: source)
        }
        #expect(error?.code == .upstreamFailed)
        #expect(try contents(table, database) == [["1", "x"], ["2", "y"]])
        #expect(try leftovers(database) == [])
    }

    @Test func aValueTheColumnRejectsLeavesTheTargetAsItWas() throws {
        let table = TestPostgres.uniqueName("pgw_reject")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("CREATE TABLE \(table) (id int4, name text); INSERT INTO \(table) VALUES (1, 'x')")
        let schema = Schema([Field(name: "id", type: .text), Field(name: "name", type: .text)])
        let error = #expect(throws: StepError.self) {
            try self.write(["table": .string(table)], [[.text("2", .text), .text("b", .text)], [.text("three", .text), .text("c", .text)]], schema: schema)
        }
        #expect(error?.code == .run)
        #expect(error?.message.hasPrefix("PostgreSQL error 22P02: invalid input syntax for type integer: \"three\"") == true)
        #expect(try contents(table, database) == [["1", "x"]])
        #expect(try leftovers(database) == [])
        // Rejected in the first row of a long load: the server's error, not a broken connection.
        let many = (0..<200_000).map { [Value.text($0 == 0 ? "nope" : String($0), .text), .text("r", .text)] }
        let source = FixedSource(stepID: "up", schema: schema, batches: [batch(schema, many), batch(schema, many)])
        let early = #expect(throws: StepError.self) { try PostgreSQLWriter().write(self.step(["table": .string(table)]), input: source) }
        #expect(early?.message.hasPrefix("PostgreSQL error 22P02: invalid input syntax for type integer: \"nope\"") == true)
        #expect(try contents(table, database) == [["1", "x"]])
    }

    @Test func theConnectionKilledMidLoadLeavesTheTargetAsItWas() throws {
        let table = TestPostgres.uniqueName("pgw_kill")
        let name = TestPostgres.uniqueName("osiris-writer")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("CREATE TABLE \(table) (id int8, name text); INSERT INTO \(table) VALUES (1, 'x')")
        let first = batch(Self.schema, (0..<70_000).map { [.int64(Int64($0)), .text("r", .text)] })
        let terminated = Mutex<[[String?]]>([])
        // While the writer waits for its second batch, its session is terminated from another one.
        let source = FailingSource(schema: Self.schema, batches: [first, first], fails: false) { handed in
            guard handed == 1 else { return }
            let killed = try? database.rows("SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE application_name = $1", parameters: [name])
            terminated.withLock { $0 = killed ?? [] }
        }
        let context = step(["table": .string(table), "write_mode": "truncate"], connection: TestPostgres.connection(["application_name": .string(name)]))
        let error = #expect(throws: StepError.self) { try PostgreSQLWriter().write(context, input: source) }
        #expect(terminated.withLock { $0 } == [["true"]])
        #expect(error?.code == .connection)
        #expect(error?.retryable == true)
        #expect(try contents(table, database) == [["1", "x"]])
        #expect(try leftovers(database) == [])
    }

    @Test func anInterruptedRunIsCancelledAndLeavesTheTargetAsItWas() throws {
        let table = TestPostgres.uniqueName("pgw_cancel")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("CREATE TABLE \(table) (id int8, name text); INSERT INTO \(table) VALUES (1, 'x')")
        let token = CancellationToken()
        let rows = batch(Self.schema, (0..<70_000).map { [.int64(Int64($0)), .text("r", .text)] })
        let source = FailingSource(schema: Self.schema, batches: [rows, rows, rows], fails: false) { number in
            if number == 3 { token.cancel() }
        }
        var context = step(["table": .string(table), "write_mode": "replace"])
        context.cancellation = token
        let error = #expect(throws: StepError.self) { try PostgreSQLWriter().write(context, input: source) }
        #expect(error?.code == .cancelled)
        #expect(try contents(table, database) == [["1", "x"]])
        #expect(try leftovers(database) == [])
    }

    @Test func wrongPasswordIsAuthenticationWithoutThePassword() throws {
        let wrong = "not-the-pw-\(UUID().uuidString)"
        let masker = SecretMasker()
        let context = step(["table": "never_written"], connection: TestPostgres.connection(["password": .string(wrong)]), masker: masker)
        let error = #expect(throws: StepError.self) {
            try PostgreSQLWriter().write(context, input: FixedSource(stepID: "up", schema: Self.schema, batches: []))
        }
        #expect(error?.code == .authentication)
        #expect(error?.exitStatus.rawValue == 77)
        #expect(error.map { !$0.description.contains(wrong) } == true)
    }
}
