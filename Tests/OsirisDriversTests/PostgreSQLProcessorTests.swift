import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Testing

@Suite(.enabled(if: TestPostgres.isAvailable, "needs OSIRIS_TEST_PG_URL (run under scripts/with-servers)"))
final class PostgreSQLProcessorTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }

    func process(_ query: String, _ inputs: [any BatchSource], progress: RecordingProgress = RecordingProgress()) throws(StepError) -> CollectingSink {
        var step = context("postgres.processor", mode: "transform", config: ["query": .string(query)], folder: folder)
        step.connection = TestPostgres.connection()
        step.progress = progress
        let sink = CollectingSink()
        try PostgreSQLProcessor().process(step, inputs: inputs, output: sink)
        return sink
    }

    static let customers = Schema([Field(name: "id", type: .int64), Field(name: "name", type: .text)])
    static let orders = Schema([
        Field(name: "customer_id", type: .int64), Field(name: "total", type: .decimal, precision: 10, scale: 2),
    ])

    func customers() -> FixedSource {
        FixedSource(stepID: "extract-customers", schema: Self.customers, batches: [
            batch(Self.customers, [[.int64(1), .text("Ann", .text)], [.int64(2), .text("Bob", .text)]]),
            batch(Self.customers, [[.int64(3), .text("Cy 'q'", .text)]]),
        ])
    }

    func orders() -> FixedSource {
        FixedSource(stepID: "orders", schema: Self.orders, batches: [batch(Self.orders, [
            [.int64(1), .text("10.50", .decimal)], [.int64(1), .text("0.25", .decimal)], [.int64(3), .text("7.00", .decimal)],
            [.int64(9), .text("1.00", .decimal)],
        ])])
    }

    @Test func aJoinOfTwoInputsRunsInTheServer() throws {
        let progress = RecordingProgress()
        let sink = try process("""
            SELECT c.id, c.name, SUM(o.total) AS revenue, COUNT(o.customer_id) AS orders
            FROM df_extract_customers c LEFT JOIN "orders" o ON o.customer_id = c.id
            GROUP BY c.id, c.name ORDER BY c.id;
            """, [customers(), orders()], progress: progress)
        #expect(sink.schema == Schema([
            Field(name: "id", type: .int64), Field(name: "name", type: .text), Field(name: "revenue", type: .decimal),
            Field(name: "orders", type: .int64),
        ]))
        #expect(sink.rows == [["1", "Ann", "10.75", "2"], ["2", "Bob", "NULL", "0"], ["3", "Cy 'q'", "7.00", "1"]])
        #expect(progress.rowsRead == 7)
    }

    @Test func oneInputIsAlsoInputDFAndItsQuotedStepID() throws {
        let sink = try process(
            #"SELECT a.name FROM input_df a JOIN "extract-customers" b USING (id) JOIN df_extract_customers c USING (id) WHERE a.id > 1 ORDER BY 1"#,
            [customers()])
        #expect(sink.rows == [["Bob"], ["Cy 'q'"]])
    }

    @Test func everyTypeGoesThroughExactly() throws {
        let schema = Schema([
            Field(name: "id", type: .int64), Field(name: "ok", type: .bool), Field(name: "f", type: .float64),
            Field(name: "price", type: .decimal, precision: 20, scale: 4), Field(name: "free", type: .decimal), Field(name: "t", type: .text),
            Field(name: "raw", type: .bytes), Field(name: "day", type: .date), Field(name: "at", type: .time), Field(name: "ts", type: .timestamp),
            Field(name: "tz", type: .timestamptz), Field(name: "doc", type: .json), Field(name: "key", type: .uuid),
        ])
        let input = batch(schema, [
            [.int64(-9_223_372_036_854_775_808), .bool(true), .float64(1e-300), .text("-12345678901234.5000", .decimal),
             .text("1.000000000000000000001", .decimal), .text("a\tb\nc\\d 'e' \"f\" 🐎", .text), .bytes([0, 92, 255]),
             .text("2024-02-29", .date), .text("23:59:59.999999", .time), .text("2024-05-01 13:45:00", .timestamp),
             .text("2024-05-01T11:45:00.5+00:00", .timestamptz), .text("{\"z\": 1, \"a\": [true, null]}", .json),
             .text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", .uuid)],
            [.int64(2)] + Array(repeating: Value.null, count: 12),
        ])
        let sink = try process("SELECT * FROM input_df ORDER BY id", [FixedSource(stepID: "in", schema: schema, batches: [input])])
        #expect(sink.schema == schema)
        #expect(sink.rows == (0..<input.count).map { row in input.columns.map { $0.isNull(row) ? "NULL" : $0.string(row) } })
    }

    @Test func theQueryCannotWriteAndLeavesNothingBehind() throws {
        let table = TestPostgres.uniqueName("pgp_target")
        let database = try PostgreSQLConnection(TestPostgres.connection(), masker: SecretMasker())
        defer { try? database.execute("DROP TABLE IF EXISTS \(table)") }
        try database.execute("CREATE TABLE \(table) (id int8)")
        let error = #expect(throws: StepError.self) {
            try self.process("WITH x AS (INSERT INTO \(table) SELECT id FROM input_df RETURNING id) SELECT * FROM x", [self.customers()])
        }
        #expect(error?.code == .run)
        #expect(error?.message.hasPrefix("query of step 'step' fails: PostgreSQL error 25006:") == true)
        #expect(try database.rows("SELECT count(*)::text FROM \(table)") == [["0"]])
    }

    @Test func inputsThatWouldShareATableAreRefused() throws {
        let other = FixedSource(stepID: "extract_customers", schema: Self.customers, batches: [])
        let error = #expect(throws: StepError.self) { try self.process("SELECT 1", [self.customers(), other]) }
        #expect(error?.code == .configuration)
        #expect(error?.message == """
            inputs 'extract-customers' and 'extract_customers' of step 'step' would both be table df_extract_customers; rename one of the steps
            """)
    }
}
