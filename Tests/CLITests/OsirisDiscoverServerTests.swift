import Foundation
import Testing

/// `osiris-discover` against the real PostgreSQL server of `scripts/with-servers`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["OSIRIS_TEST_PG_URL"] != nil, "needs OSIRIS_TEST_PG_URL (run under scripts/with-servers)"))
struct OsirisDiscoverServerTests {
    static let environment = ProcessInfo.processInfo.environment
    static var url: String { environment["OSIRIS_TEST_PG_URL"] ?? "" }
    static var password: String { environment["OSIRIS_TEST_PG_PASSWORD"] ?? "" }

    /// Runs SQL with the server's psql (from OSIRIS_TEST_PG_BIN, else PATH).
    static func psql(_ sql: String) throws {
        let psql = environment["OSIRIS_TEST_PG_BIN"].map { $0 + "/psql" } ?? "psql"
        let run = try ToolHarness.run(psql, ["-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        #expect(run.status == 0, "\(run.stderr)")
    }

    static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
    }

    let cache = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-discover-cache-\(UUID().uuidString)")

    @Test func aURLSnapshotNamesTheURLWithoutItsPassword() throws {
        let schema = Self.uniqueName("url")
        try Self.psql("CREATE SCHEMA \(schema); CREATE TABLE \(schema).items (id int PRIMARY KEY)")
        defer { try? Self.psql("DROP SCHEMA \(schema) CASCADE") }
        defer { try? FileManager.default.removeItem(at: cache) }
        let run = try ToolHarness.run(
            "osiris-discover", [Self.url, "--tables", "\(schema).*"], environment: ["XDG_CACHE_HOME": cache.path])
        #expect(run.status == 0, "\(run.stderr)")
        let snapshot = try #require(JSONSerialization.jsonObject(with: run.stdoutBytes) as? [String: Any])
        let connection = try #require(snapshot["connection"] as? String)
        #expect(connection.hasPrefix("postgres://osiris@127.0.0.1:"))
        #expect(!run.stdout.contains(Self.password) && !run.stderr.contains(Self.password))
        #expect((snapshot["tables"] as? [[String: Any]])?.map { $0["name"] as? String } == ["items"])
    }

    @Test func rejectedCredentialsExit77WithoutThePassword() throws {
        let wrong = Self.url.replacingOccurrences(of: ":" + Self.password + "@", with: ":Wr0ng-Pa55@")
        let run = try ToolHarness.run("osiris-discover", [wrong], environment: ["XDG_CACHE_HOME": cache.path])
        #expect(run.status == 77)
        #expect(run.stderr.contains("password authentication failed"), "\(run.stderr)")
        #expect(!run.stderr.contains("Wr0ng-Pa55"))
    }

    @Test func aQueryOverTheStatementTimeoutExits75() throws {
        let schema = Self.uniqueName("timeout")
        try Self.psql("CREATE SCHEMA \(schema); CREATE VIEW \(schema).slow AS SELECT pg_sleep(5)::text AS x")
        defer { try? Self.psql("DROP SCHEMA \(schema) CASCADE") }
        let started = Date()
        let run = try ToolHarness.run("osiris-discover", [
            Self.url, "--depth", "profile", "--tables", "\(schema).slow", "--statement-timeout", "1",
        ])
        #expect(run.status == 75, "\(run.stderr)")
        #expect(run.stderr.contains("statement timeout"), "\(run.stderr)")
        #expect(Date().timeIntervalSince(started) < 4)
    }

    @Test func sigtermCancelsASlowDiscoveryWith143() throws {
        let schema = Self.uniqueName("slow")
        try Self.psql("CREATE SCHEMA \(schema); CREATE VIEW \(schema).slow AS SELECT pg_sleep(30)::text AS x")
        defer { try? Self.psql("DROP SCHEMA \(schema) CASCADE") }
        let process = Process()
        process.executableURL = try ToolHarness.executable("osiris-discover")
        process.arguments = [Self.url, "--depth", "profile", "--tables", "\(schema).slow"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let started = Date()
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 143)
        #expect(Date().timeIntervalSince(started) < 10)
    }
}
