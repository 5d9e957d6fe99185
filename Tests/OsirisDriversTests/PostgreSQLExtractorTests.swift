import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Testing

/// A sink that cancels the run when the first batch arrives, like a SIGINT mid-stream.
// unchecked: a driver sends from the one thread that runs it; tests read it after the driver returned.
final class CancellingSink: BatchSink, @unchecked Sendable {
    let token: CancellationToken
    private(set) var batches = 0
    init(token: CancellationToken) { self.token = token }
    func start(schema: Schema) throws(StepError) {}
    func send(_ batch: RecordBatch) throws(StepError) {
        batches += 1
        token.cancel()
    }
}

@Suite struct PostgreSQLExtractorQueryTests {
    @Test func tableConfigBuildsQuotedSelect() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config: JSONValue = [
            "table": "orders", "schema": "sales", "columns": ["id", "we\"ird"], "where": "id > 3", "limit": 5,
        ]
        let step = context("postgres.extractor", mode: "extract", config: config, folder: folder)
        #expect(try PostgreSQLExtractor.query(step) == #"SELECT "id", "we""ird" FROM "sales"."orders" WHERE (id > 3) LIMIT 5"#)
        let supabase: JSONValue = [
            "table": "orders", "select": "id, total", "filter": ["status": "eq.paid", "note": "is.null"], "order": "created_at.desc",
            "limit": 10, "offset": 20,
        ]
        let supabaseStep = context("supabase.extractor", mode: "extract", config: supabase, folder: folder)
        let built = try PostgreSQLExtractor.query(supabaseStep)
        #expect(built == """
            SELECT "id", "total" FROM "orders" WHERE "note" IS NULL AND "status" = 'paid' \
            ORDER BY "created_at" DESC LIMIT 10 OFFSET 20
            """)
        let query = context("postgres.extractor", mode: "extract", config: ["query": "SELECT 1;  \n"], folder: folder)
        #expect(try PostgreSQLExtractor.query(query) == "SELECT 1")
    }
}

@Suite(.enabled(if: TestPostgres.isAvailable, "needs OSIRIS_TEST_PG_URL (run under scripts/with-servers)"))
final class PostgreSQLExtractorTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }

    func step(_ config: JSONValue, connection: ResolvedConnection = TestPostgres.connection(),
              cancellation: CancellationToken = CancellationToken(), masker: SecretMasker = SecretMasker()) -> StepContext {
        var step = context("postgres.extractor", mode: "extract", config: config, folder: folder)
        step.connection = connection
        step.cancellation = cancellation
        step.masker = masker
        return step
    }

    func extract(_ config: JSONValue, connection: ResolvedConnection = TestPostgres.connection(),
                 masker: SecretMasker = SecretMasker()) throws(StepError) -> CollectingSink {
        let sink = CollectingSink()
        try PostgreSQLExtractor().extract(step(config, connection: connection, masker: masker), output: sink)
        return sink
    }

    func admin() throws -> PostgreSQLConnection { try PostgreSQLConnection(TestPostgres.connection(), masker: SecretMasker()) }

    @Test func everyTypeArrivesExactly() throws {
        let table = TestPostgres.uniqueName("pg_types")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("""
            SET TimeZone = 'Europe/Prague';
            CREATE TABLE \(table) (
              id int4 NOT NULL, small int2, big int8, r float4, d float8, n numeric(20,4), u numeric, t text,
              v varchar(20), c char(3), ok bool, day date, at time, ts timestamp, tz timestamptz, j json, jb jsonb,
              id2 uuid, raw bytea, span interval);
            INSERT INTO \(table) VALUES
              (1, -32768, 9223372036854775807, 1.5, 0.1, 12345678901234.5000, 0.000000000000000000001,
               E'tab\\there\\nnew ''q'' "dq" \\\\ back', 'žluťoučký 🐎', 'ab', true, '2024-02-29', '13:45:00.25',
               '2024-05-01 13:45:00.123456', '2024-05-01 13:45:00+02', '{"a": [1, 2]}', '{"b": 1, "a": null}',
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff0a5c09', '1 day 02:00:00'),
              (2, NULL, -9223372036854775808, NULL, -1e308, -0.0001, NULL, '', NULL, NULL, false, NULL, NULL,
               NULL, '1999-12-31 23:59:59.5-08', NULL, NULL, NULL, '\\x', NULL),
              (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL);
            """)
        let progress = RecordingProgress()
        var context = step(["table": .string(table), "where": "id < 10"])
        context.progress = progress
        let sink = CollectingSink()
        try PostgreSQLExtractor().extract(context, output: sink)
        let schema = try #require(sink.schema)
        #expect(schema.fields.map(\.type) == [
            .int64, .int64, .int64, .float64, .float64, .decimal, .decimal, .text, .text, .text, .bool, .date, .time,
            .timestamp, .timestamptz, .json, .json, .uuid, .bytes, .text,
        ])
        #expect(schema.fields[5].precision == 20 && schema.fields[5].scale == 4)
        #expect(schema.fields[6].precision == nil && schema.fields[6].scale == nil)
        #expect(schema.names.first == "id" && schema.names.last == "span")
        let rows = sink.rows.sorted { $0[0] < $1[0] }
        #expect(rows == [
            ["1", "-32768", "9223372036854775807", "1.5", "0.1", "12345678901234.5000", "0.000000000000000000001",
             "tab\there\nnew 'q' \"dq\" \\ back", "žluťoučký 🐎", "ab ", "true", "2024-02-29", "13:45:00.25",
             "2024-05-01 13:45:00.123456", "2024-05-01T11:45:00+00:00", "{\"a\": [1, 2]}", "{\"a\": null, \"b\": 1}",
             "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "\\x00ff0a5c09", "1 day 02:00:00"],
            ["2", "NULL", "-9223372036854775808", "NULL", "-1e+308", "-0.0001", "NULL", "", "NULL", "NULL", "false",
             "NULL", "NULL", "NULL", "2000-01-01T07:59:59.5+00:00", "NULL", "NULL", "NULL", "\\x", "NULL"],
            ["3"] + Array(repeating: "NULL", count: 19),
        ])
        #expect(progress.rowsRead == 3)
    }

    @Test func queryWithSearchPathAndEmptyResultDeclaresSchema() throws {
        let schemaName = TestPostgres.uniqueName("s")
        let database = try admin()
        defer { try? database.execute("DROP SCHEMA IF EXISTS \(schemaName) CASCADE") }
        try database.execute("CREATE SCHEMA \(schemaName); CREATE TABLE \(schemaName).items (id int8, price numeric(8,2))")
        let sink = try extract(["query": "SELECT id, price, id FROM items;"],
                               connection: TestPostgres.connection(["schema": .string(schemaName)]))
        #expect(sink.schema == Schema([
            Field(name: "id", type: .int64), Field(name: "price", type: .decimal, precision: 8, scale: 2),
            Field(name: "id_2", type: .int64),
        ]))
        #expect(sink.batches.isEmpty)
    }

    @Test func aQueryEndingInACommentRuns() throws {
        let sink = try extract(["query": "SELECT 1::int2 AS one, 'a\\b' AS two -- a comment"])
        #expect(sink.rows == [["1", "a\\b"]])
        #expect(sink.schema?.fields.map(\.type) == [.int64, .text])
    }

    @Test func twoHundredThousandRowsStreamInBatches() throws {
        let progress = RecordingProgress()
        var context = step(["query": "SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 200000) AS g"])
        context.progress = progress
        let sink = CollectingSink()
        try PostgreSQLExtractor().extract(context, output: sink)
        #expect(sink.batches.map(\.count) == [65_536, 65_536, 65_536, 3_392])
        #expect(progress.rowsRead == 200_000)
        let last = try #require(sink.batches.last)
        #expect(last.columns[0].int64(last.count - 1) == 200_000)
        #expect(last.columns[1].string(last.count - 1).utf8.count == 32)
    }

    @Test func badQueryIsARunErrorWithTheServerMessage() throws {
        let error = #expect(throws: StepError.self) { try self.extract(["query": "SELECT nope FROM no_such_table_xyz"]) }
        #expect(error?.code == .run)
        #expect(error?.exitStatus.rawValue == 1)
        #expect(error?.message == "PostgreSQL error 42P01: relation \"no_such_table_xyz\" does not exist")
    }

    @Test func writesAreRefusedInTheReadOnlyTransaction() throws {
        let table = TestPostgres.uniqueName("pg_ro")
        let database = try admin()
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("CREATE TABLE \(table) (id int4)")
        let error = #expect(throws: StepError.self) {
            try self.extract(["query": .string("WITH x AS (INSERT INTO \(table) VALUES (1) RETURNING id) SELECT * FROM x")])
        }
        #expect(error?.code == .run)
        #expect(error?.message.hasPrefix("PostgreSQL error 25006:") == true)
    }

    @Test func cancellationStopsTheStream() throws {
        let token = CancellationToken()
        let sink = CancellingSink(token: token)
        let context = step(["query": "SELECT g FROM generate_series(1, 5000000) AS g"], cancellation: token)
        let error = #expect(throws: StepError.self) { try PostgreSQLExtractor().extract(context, output: sink) }
        #expect(error?.code == .cancelled)
        #expect(sink.batches == 1)
    }
}
