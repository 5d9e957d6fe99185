import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Testing

/// A sink that calls `onFirstBatch` when the first batch arrives, then keeps counting.
// unchecked: a driver sends from the one thread that runs it; tests read it after the driver returned.
final class ReactingSink: BatchSink, @unchecked Sendable {
    let onFirstBatch: (RecordBatch) -> Void
    private(set) var batchCount = 0

    init(onFirstBatch: @escaping (RecordBatch) -> Void) { self.onFirstBatch = onFirstBatch }

    func start(schema: Schema) throws(StepError) {}
    func send(_ batch: RecordBatch) throws(StepError) {
        batchCount += 1
        if batchCount == 1 { onFirstBatch(batch) }
    }
}

@Suite struct MySQLExtractorTests {
    func extract(_ config: JSONValue, connection: ResolvedConnection = TestMariaDB.connection(),
                 cancellation: CancellationToken = CancellationToken()) throws(StepError) -> CollectingSink {
        let sink = CollectingSink()
        try extract(config, into: sink, connection: connection, cancellation: cancellation)
        return sink
    }

    func extract(_ config: JSONValue, into sink: any BatchSink, connection: ResolvedConnection = TestMariaDB.connection(),
                 cancellation: CancellationToken = CancellationToken()) throws(StepError) {
        let context = StepContext(
            step: ManifestStep(id: "step", component: "mysql.extractor", mode: .extract, needs: [], connection: nil, config: config,
                               retry: RetryPolicy(attempts: 1, backoffMilliseconds: 0)),
            connection: connection, cancellation: cancellation, progress: RecordingProgress(),
            temporaryDirectory: NSTemporaryDirectory(), memoryBudget: 64 << 20, masker: SecretMasker())
        try MySQLExtractor().extract(context, output: sink)
    }

    @Test func tableConfigBuildsTheSelect() throws {
        func sql(_ config: JSONValue, connection: ResolvedConnection? = nil) throws -> String {
            let context = StepContext(
                step: ManifestStep(id: "s", component: "mysql.extractor", mode: .extract, needs: [], connection: nil, config: config,
                                   retry: RetryPolicy(attempts: 1, backoffMilliseconds: 0)),
                connection: connection, cancellation: CancellationToken(), progress: RecordingProgress(),
                temporaryDirectory: NSTemporaryDirectory(), memoryBudget: 1 << 20, masker: SecretMasker())
            return try MySQLExtractor.query(context)
        }
        #expect(try sql(["table": "movies"]) == "SELECT * FROM `movies`")
        #expect(try sql(["table": "re`views", "schema": "db", "columns": ["id", "rating"], "where": "rating > 3", "limit": 10, "offset": 20])
            == "SELECT `id`, `rating` FROM `db`.`re``views` WHERE rating > 3 LIMIT 10 OFFSET 20")
        #expect(try sql(["table": "db.t", "offset": 5]) == "SELECT * FROM `db`.`t` LIMIT 18446744073709551615 OFFSET 5")
        #expect(try sql(["query": "SELECT 1", "table": "ignored"]) == "SELECT 1")
        let withSchema = ResolvedConnection(reference: "@mysql.x", family: "mysql", fields: ["schema": "sales"])
        #expect(try sql(["table": "t"], connection: withSchema) == "SELECT * FROM `sales`.`t`")
        #expect(try sql(["table": "t", "schema": "step"], connection: withSchema) == "SELECT * FROM `step`.`t`")
    }

    @Test(.enabled(if: TestMariaDB.available)) func everyTypeExactly() throws {
        try TestMariaDB.run([
            "DROP TABLE IF EXISTS ext_types",
            """
            CREATE TABLE ext_types (id INT NOT NULL PRIMARY KEY, flag TINYINT(1), small SMALLINT UNSIGNED, big BIGINT,
              ubig BIGINT UNSIGNED, amount DECIMAL(12,3), uamount DECIMAL(5,2) UNSIGNED, ratio DOUBLE, name VARCHAR(50),
              body TEXT, bin VARBINARY(10), data BLOB, bits BIT(8), day DATE, clock TIME(3), moment DATETIME(6),
              stamp TIMESTAMP NULL DEFAULT NULL, doc JSON, kind ENUM('a','b'), yr YEAR, ident UUID)
            """,
            "SET time_zone = '+02:00'",
            """
            INSERT INTO ext_types VALUES
            (1, 1, 65535, -9223372036854775808, 18446744073709551615, -123456789.125, 999.99, 0.1,
             'it''s "quoted"', 'tab\there\nnew line, ünïcødé ✓', X'00FF10', X'DEADBEEF', b'10100101', '2024-02-29',
             '13:45:00.250', '2024-05-01 13:45:00.123456', '2024-05-01 12:00:00', '{"a": [1, 2]}', 'b', 2024,
             '8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f'),
            (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
            (3, 0, 0, 9223372036854775807, 0, 0.500, 0.00, -2.5e-300, '', '', X'', X'', b'0', '1970-01-01', '-01:00:00',
             '1999-12-31 23:59:59', '2038-01-19 05:14:07', 'null', 'a', 1901, '00000000-0000-0000-0000-000000000000')
            """,
        ])
        let sink = try extract(["query": "SELECT * FROM ext_types ORDER BY id"])
        let schema = try #require(sink.schema)
        #expect(schema.fields.map(\.type) == [
            .int64, .int64, .int64, .int64, .decimal, .decimal, .decimal, .float64, .text, .text, .bytes, .bytes, .bytes,
            .date, .time, .timestamp, .timestamptz, .json, .text, .int64, .uuid,
        ])
        #expect(schema.fields[0].nullable == false)
        #expect(schema.fields[1].nullable == true)
        #expect(schema.fields[4].precision == 20 && schema.fields[4].scale == 0)
        #expect(schema.fields[5].precision == 12 && schema.fields[5].scale == 3)
        #expect(schema.fields[6].precision == 5 && schema.fields[6].scale == 2)
        #expect(sink.rows == [
            ["1", "1", "65535", "-9223372036854775808", "18446744073709551615", "-123456789.125", "999.99", "0.1",
             "it's \"quoted\"", "tab\there\nnew line, ünïcødé ✓", "\\x00ff10", "\\xdeadbeef", "\\xa5", "2024-02-29",
             "13:45:00.250", "2024-05-01 13:45:00.123456", "2024-05-01T10:00:00+00:00", "{\"a\": [1, 2]}", "b", "2024",
             "8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f"],
            ["2", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
             "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"],
            ["3", "0", "0", "9223372036854775807", "0", "0.500", "0.00", "-2.5e-300", "", "", "\\x", "\\x", "\\x00",
             "1970-01-01", "-01:00:00.000", "1999-12-31 23:59:59.000000", "2038-01-19T03:14:07+00:00", "null", "a", "1901",
             "00000000-0000-0000-0000-000000000000"],
        ])
    }

    @Test(.enabled(if: TestMariaDB.available)) func tableWithColumnsWhereLimitOffset() throws {
        try TestMariaDB.run([
            "DROP TABLE IF EXISTS ext_page",
            "CREATE TABLE ext_page (id INT NOT NULL PRIMARY KEY, label VARCHAR(10))",
            "INSERT INTO ext_page SELECT seq, CONCAT('r', seq) FROM seq_1_to_20",
        ])
        let sink = try extract(["table": "ext_page", "columns": ["label", "id"], "where": "id % 2 = 0", "limit": 3, "offset": 1])
        #expect(sink.schema?.names == ["label", "id"])
        #expect(sink.rows == [["r4", "4"], ["r6", "6"], ["r8", "8"]])
    }

    @Test(.enabled(if: TestMariaDB.available)) func largeExtractStreamsInSeveralBatches() throws {
        let sink = try extract(["query": "SELECT CAST(seq AS SIGNED) AS n, CONCAT('row ', seq) AS label FROM seq_1_to_200000"])
        #expect(sink.schema?.fields.map(\.type) == [.int64, .text])
        #expect(sink.batches.map(\.count) == [65_536, 65_536, 65_536, 3_392])
        var sum: Int64 = 0
        for batch in sink.batches {
            for row in 0..<batch.count { sum += batch.columns[0].int64(row) }
        }
        #expect(sum == 200_000 * 200_001 / 2)
        let last = try #require(sink.batches.last)
        #expect(last.columns[1].string(last.count - 1) == "row 200000")
    }

    @Test(.enabled(if: TestMariaDB.available)) func badSQLIsARunErrorWithTheServersMessage() throws {
        let error = try #require(throws: StepError.self) { _ = try extract(["query": "SELEC 1"]) }
        #expect(error.code == .run)
        #expect(error.exitStatus.rawValue == 1)
        #expect(error.message.contains("1064"))
        #expect(error.message.contains("You have an error in your SQL syntax"))
    }

    @Test(.enabled(if: TestMariaDB.available)) func writesAreRefusedInTheReadOnlyTransaction() throws {
        try TestMariaDB.run(["DROP TABLE IF EXISTS ext_ro", "CREATE TABLE ext_ro (id INT)"])
        let error = try #require(throws: StepError.self) { _ = try extract(["query": "INSERT INTO ext_ro VALUES (1)"]) }
        #expect(error.code == .run)
        #expect(error.message.contains("1792"))
    }

    @Test(.enabled(if: TestMariaDB.available)) func wrongPasswordFailsTheStepWith77() throws {
        let error = try #require(throws: StepError.self) {
            _ = try extract(["query": "SELECT 1"], connection: TestMariaDB.connection(["password": "not-the-password"]))
        }
        #expect(error.exitStatus.rawValue == 77)
    }

    @Test(.enabled(if: TestMariaDB.available)) func cancellationKillsTheRunningQuery() throws {
        let token = CancellationToken()
        let started = ContinuousClock.now
        let thread = Thread { Thread.sleep(forTimeInterval: 1); token.cancel() }
        thread.start()
        let error = try #require(throws: StepError.self) { _ = try extract(["query": "SELECT SLEEP(60) AS s"], cancellation: token) }
        #expect(error.code == .cancelled)
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test(.enabled(if: TestMariaDB.available)) func cancellationBetweenBatchesStopsTheStreamAtOnce() throws {
        let token = CancellationToken()
        let sink = ReactingSink { _ in token.cancel() }
        let started = ContinuousClock.now
        let error = try #require(throws: StepError.self) {
            try extract(["query": "SELECT seq, REPEAT('x', 100) AS pad FROM seq_1_to_20000000"], into: sink, cancellation: token)
        }
        #expect(error.code == .cancelled)
        #expect(sink.batchCount == 1)
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test(.enabled(if: TestMariaDB.available)) func aKilledConnectionIsARetryableConnectionError() throws {
        let sink = ReactingSink { batch in
            try? TestMariaDB.run(["KILL CONNECTION \(batch.columns[0].int64(0))"])
        }
        let error = try #require(throws: StepError.self) {
            try extract(["query": "SELECT CONNECTION_ID() AS id, seq FROM seq_1_to_20000000"], into: sink)
        }
        #expect(error.code == .connection)
        #expect(error.retryable)
        #expect(error.exitStatus.rawValue == 69)
    }
}
