import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Testing

/// The throwaway server of `scripts/with-servers`, when the tests run under it.
enum TestPostgres {
    static let environment = ProcessInfo.processInfo.environment
    static var isAvailable: Bool { environment["OSIRIS_TEST_PG_URL"] != nil }

    /// The server's connection as fields, with `overrides` merged over them.
    static func connection(_ overrides: [String: JSONValue] = [:]) -> ResolvedConnection {
        var fields: [String: JSONValue] = [
            "host": .string(environment["OSIRIS_TEST_PG_HOST"] ?? "127.0.0.1"),
            "port": .int(Int(environment["OSIRIS_TEST_PG_PORT"] ?? "5432") ?? 5432),
            "database": .string(environment["OSIRIS_TEST_PG_DATABASE"] ?? "osiris_test"),
            "user": .string(environment["OSIRIS_TEST_PG_USER"] ?? "osiris"),
            "password": .string(environment["OSIRIS_TEST_PG_PASSWORD"] ?? ""),
        ]
        for (key, value) in overrides { fields[key] = value }
        return ResolvedConnection(reference: "@pg.test", family: "postgres", fields: fields)
    }

    /// A table name no other test uses.
    static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }
}

@Suite struct PostgreSQLConnectionParameterTests {
    @Test func connectionParametersComeFromFieldsOrURL() throws {
        let fields: [String: JSONValue] = ["dsn": "postgres://ann:s%40cret@db.example:6543/shop?sslmode=require", "port": 7000]
        let pairs = try PostgreSQLConnection.parameters(fields)
        let byKey = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
        #expect(byKey["host"] == "db.example")
        #expect(byKey["port"] == "7000")  // a field written out wins over the URL
        #expect(byKey["user"] == "ann")
        #expect(byKey["password"] == "s@cret")
        #expect(byKey["dbname"] == "shop")
        #expect(byKey["sslmode"] == "require")
        #expect(byKey["connect_timeout"] == "10")
        #expect(pairs.count == byKey.count)
    }

    @Test func libpqMessagesBecomeOneLine() {
        let raw = "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?\n"
        #expect(PostgreSQLConnection.trimmed(raw)
            == "connection to server at \"127.0.0.1\", port 1 failed: Connection refused Is the server running on that host and accepting TCP/IP connections?")
    }

    @Test func sqlStatesAreClassified() {
        #expect(PostgreSQLConnection.classify("40001") == .temporary)
        #expect(PostgreSQLConnection.classify("40P01") == .temporary)
        #expect(PostgreSQLConnection.classify("55P03") == .temporary)
        #expect(PostgreSQLConnection.classify("57P01") == .connection)
        #expect(PostgreSQLConnection.classify("08006") == .connection)
        #expect(PostgreSQLConnection.classify("28P01") == .authentication)
        #expect(PostgreSQLConnection.classify("28000") == .authentication)
        #expect(PostgreSQLConnection.classify("57014") == .temporary)  // statement_timeout; an interrupted run reports CANCELLED itself
        #expect(PostgreSQLConnection.classify("42P01") == .run)
        #expect(StepError(PostgreSQLConnection.classify("40001"), "x").retryable)
        #expect(!StepError(PostgreSQLConnection.classify("42601"), "x").retryable)
    }
}

@Suite(.enabled(if: TestPostgres.isAvailable, "needs OSIRIS_TEST_PG_URL (run under scripts/with-servers)"))
struct PostgreSQLConnectionTests {
    func extract(_ connection: ResolvedConnection, masker: SecretMasker = SecretMasker()) throws(StepError) {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var step = context("postgres.extractor", mode: "extract", config: ["query": "SELECT 1"], folder: folder)
        step.connection = connection
        step.masker = masker
        try PostgreSQLExtractor().extract(step, output: CollectingSink())
    }

    @Test func rowsComeBackAsTextWithNullsAndParameters() throws {
        let connection = try PostgreSQLConnection(TestPostgres.connection(), masker: SecretMasker())
        let rows = try connection.rows("SELECT $1::text, NULL::int, 42 UNION ALL SELECT 'b', 7, 1 ORDER BY 3", parameters: ["it's"])
        #expect(rows == [["b", "7", "1"], ["it's", nil, "42"]])
        #expect(try connection.rows("SELECT 1 WHERE false") == [])
        #expect(throws: StepError.self) { try connection.rows("SELECT * FROM no_such_table_here") }
    }

    @Test func wrongPasswordIsAuthenticationWithoutThePassword() throws {
        let wrong = "not-the-pw-\(UUID().uuidString)"
        let masker = SecretMasker()
        let error = #expect(throws: StepError.self) {
            try self.extract(TestPostgres.connection(["password": .string(wrong)]), masker: masker)
        }
        #expect(error?.code == .authentication)
        #expect(error?.exitStatus.rawValue == 77)
        #expect(error?.message.contains("password authentication failed") == true)
        #expect(error.map { !$0.description.contains(wrong) } == true)
    }

    @Test func unreachablePortIsConnection() throws {
        let error = #expect(throws: StepError.self) {
            try self.extract(TestPostgres.connection(["port": 1, "connect_timeout": 3]))
        }
        #expect(error?.code == .connection)
        #expect(error?.exitStatus.rawValue == 69)
        #expect(error?.retryable == true)
        #expect(error?.message.contains("Connection refused") == true)
    }

    @Test func connectsFromADSNAlone() throws {
        let url = try #require(TestPostgres.environment["OSIRIS_TEST_PG_URL"])
        let connection = ResolvedConnection(reference: "@pg.url", family: "postgres", fields: ["dsn": .string(url)])
        try extract(connection)
    }

    @Test func aHeldLockIsTemporary() throws {
        let table = TestPostgres.uniqueName("pg_lock")
        let holder = try PostgreSQLConnection(TestPostgres.connection(), masker: SecretMasker())
        defer { try? holder.execute("ROLLBACK; DROP TABLE IF EXISTS \(table)") }
        try holder.execute("CREATE TABLE \(table) (id int4)")
        try holder.execute("BEGIN; LOCK TABLE \(table) IN ACCESS EXCLUSIVE MODE")
        let waiter = try PostgreSQLConnection(TestPostgres.connection(), masker: SecretMasker())
        try waiter.execute("SET lock_timeout = '100ms'")
        let error = #expect(throws: StepError.self) { try waiter.execute("SELECT * FROM \(table)") }
        #expect(error?.code == .temporary)
        #expect(error?.retryable == true)
        #expect(error?.message.hasPrefix("PostgreSQL error 55P03: ") == true)
        #expect(error?.message == "PostgreSQL error 55P03: canceling statement due to lock timeout")
    }

    @Test func aTerminatedSessionIsAConnectionError() throws {
        let victim = try PostgreSQLConnection(TestPostgres.connection(), masker: SecretMasker())
        let admin = try PostgreSQLConnection(TestPostgres.connection(), masker: SecretMasker())
        try victim.execute("SET application_name = 'osiris-victim'")
        try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'osiris-victim'")
        let error = #expect(throws: StepError.self) { try victim.execute("SELECT 1") }
        #expect(error?.code == .connection)
        #expect(error?.retryable == true)
    }
}
