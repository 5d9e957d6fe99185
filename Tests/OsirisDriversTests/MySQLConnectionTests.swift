import Foundation
import OML
import OsirisCore
@testable import OsirisDrivers
import Testing

/// The MariaDB server of `scripts/with-servers`, when the tests run under it.
enum TestMariaDB {
    static let environment = ProcessInfo.processInfo.environment
    static let available = environment["OSIRIS_TEST_MYSQL_URL"] != nil

    /// The test server's connection, with `overrides` over its fields.
    static func connection(_ overrides: [String: JSONValue] = [:]) -> ResolvedConnection {
        var fields: [String: JSONValue] = [
            "host": .string(environment["OSIRIS_TEST_MYSQL_HOST"] ?? "127.0.0.1"),
            "port": .int(Int(environment["OSIRIS_TEST_MYSQL_PORT"] ?? "") ?? 3306),
            "user": .string(environment["OSIRIS_TEST_MYSQL_USER"] ?? "osiris"),
            "password": .string(environment["OSIRIS_TEST_MYSQL_PASSWORD"] ?? ""),
            "database": .string(environment["OSIRIS_TEST_MYSQL_DATABASE"] ?? "osiris_test"),
        ]
        for (key, value) in overrides { fields[key] = value }
        return ResolvedConnection(reference: "@mysql.test", family: "mysql", fields: fields)
    }

    /// Runs statements on the test server (a writable connection).
    static func run(_ statements: [String]) throws {
        let connection = try MySQLConnection(connection(), masker: SecretMasker())
        for sql in statements { try connection.execute(sql) }
    }
}

@Suite struct MySQLConnectionTests {
    @Test func errorNumbersAreClassified() {
        #expect(MySQLConnection.code(forErrorNumber: 1213) == .temporary)
        #expect(MySQLConnection.code(forErrorNumber: 1205) == .temporary)
        #expect(MySQLConnection.code(forErrorNumber: 2006) == .connection)
        #expect(MySQLConnection.code(forErrorNumber: 2013) == .connection)
        #expect(MySQLConnection.code(forErrorNumber: 1927) == .connection)
        #expect(MySQLConnection.code(forErrorNumber: 2002) == .connection)
        #expect(MySQLConnection.code(forErrorNumber: 2003) == .connection)
        #expect(MySQLConnection.code(forErrorNumber: 2005) == .connection)
        #expect(MySQLConnection.code(forErrorNumber: 1045) == .authentication)
        #expect(MySQLConnection.code(forErrorNumber: 1064) == .run)
        #expect(StepError(MySQLConnection.code(forErrorNumber: 1213), "x").retryable)
        #expect(StepError(MySQLConnection.code(forErrorNumber: 2013), "x").retryable)
        #expect(!StepError(MySQLConnection.code(forErrorNumber: 1064), "x").retryable)
    }

    @Test func badSSLModeIsAConfigurationError() {
        #expect {
            _ = try MySQLConnection(TestMariaDB.connection(["ssl_mode": "sometimes"]), masker: SecretMasker())
        } throws: { ($0 as? StepError)?.exitStatus == .configuration }
    }

    @Test(.enabled(if: TestMariaDB.available)) func wrongPasswordIsAuthenticationWithoutThePassword() throws {
        let masker = SecretMasker()
        let password = "wrong-secret-Pw-4711"
        masker.register(password)
        let error = try #require(throws: StepError.self) {
            _ = try MySQLConnection(TestMariaDB.connection(["password": .string(password)]), masker: masker)
        }
        #expect(error.code == .authentication)
        #expect(error.exitStatus.rawValue == 77)
        #expect(error.message.contains("1045"))
        #expect(!error.description.contains(password))
    }

    @Test(.enabled(if: TestMariaDB.available)) func unreachablePortIsAConnectionError() throws {
        let error = try #require(throws: StepError.self) {
            _ = try MySQLConnection(TestMariaDB.connection(["port": 1, "connect_timeout": 2]), masker: SecretMasker())
        }
        #expect(error.code == .connection)
        #expect(error.exitStatus.rawValue == 69)
        #expect(error.retryable)
    }

    @Test(.enabled(if: TestMariaDB.available)) func requiredTLSIsRefusedByAServerWithoutTLS() throws {
        // The throwaway server has no certificate: TLS asked for must fail rather than fall back to plain text.
        for fields: [String: JSONValue] in [["ssl_mode": "REQUIRED"], ["ssl": true], ["sslmode": "verify-full"]] {
            let error = try #require(throws: StepError.self) {
                _ = try MySQLConnection(TestMariaDB.connection(fields), masker: SecretMasker())
            }
            #expect(error.code == .connection)
            #expect(error.message.contains("2026"))
        }
        let plain = try MySQLConnection(TestMariaDB.connection(["ssl_mode": "preferred"]), masker: SecretMasker())
        #expect(plain.threadID > 0)
    }

    @Test(.enabled(if: TestMariaDB.available)) func rowsComeBackAsTextWithNulls() throws {
        let connection = try MySQLConnection(TestMariaDB.connection(), masker: SecretMasker())
        let rows = try connection.rows("SELECT 'it''s', NULL, 42 UNION ALL SELECT 'b', 7, 1 ORDER BY 3")
        #expect(rows == [["b", "7", "1"], ["it's", nil, "42"]])
        #expect(try connection.rows("SELECT 1 FROM DUAL WHERE 1 = 0") == [])
        #expect(throws: StepError.self) { try connection.rows("SELECT * FROM no_such_table_here") }
    }

    @Test(.enabled(if: TestMariaDB.available)) func connectsWithTheFieldsOfAURL() throws {
        let url = try #require(TestMariaDB.environment["OSIRIS_TEST_MYSQL_URL"])
        let parsed = try #require(try ConnectionURL.parse(url))
        let connection = try MySQLConnection(ResolvedConnection(reference: "url", family: "mysql", fields: parsed.fields), masker: SecretMasker())
        #expect(connection.threadID > 0)
    }
}
