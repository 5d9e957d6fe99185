import Foundation
import OML
import OsirisChat
import OsirisCore
@testable import OsirisDrivers
import Testing

/// Discovery from chat: `--connection` with no snapshot discovers through OsirisDiscovery, with
/// osiris-discover's cache and exit statuses (DESIGN.md §9).
@Suite struct ConnectionDiscoveryTests {
    /// A folder holding the demo database as shop.db and a connections file naming it `@sqlite.demo`.
    func withDemo<T>(_ body: (URL) throws -> T) throws -> T {
        try ChatFixtures.withTemporaryFolder { folder in
            try ChatFixtures.buildDemoDatabase(in: folder)
            try "version: 1\nconnections:\n  sqlite:\n    demo: {default: true, path: shop.db}\n"
                .write(to: folder.appendingPathComponent("osiris_connections.yaml"), atomically: true, encoding: .utf8)
            return try body(folder)
        }
    }

    @Test func theConversationDiscoversAtTheDiscoveryStateAndSaysSo() throws {
        try withDemo { folder in
            let connections = try ConnectionsFile.load(path: folder.appendingPathComponent("osiris_connections.yaml").path)
            let masker = SecretMasker()
            let log = try SessionLog(id: "discovery", directory: folder.appendingPathComponent("sessions").path, masker: masker)
            var shown: [String] = []
            var conversation = Conversation(
                client: nil, snapshot: nil, connections: connections, session: log, ask: nil, progress: { shown.append($0) })
            conversation.discovery = ConnectionDiscovery(
                connection: "@sqlite.demo", connections: connections, searched: "the test", environment: [:], masker: masker)
            guard case .oml(let text) = try conversation.run(request: "export orders and customers to csv") else {
                Issue.record("refused")
                return
            }
            #expect(shown == ["discovering @sqlite.demo (3 tables)"])
            let fingerprint = try #require(try ChatFixtures.snapshot().fingerprint)
            #expect(text.contains("# snapshot: @sqlite.demo \(fingerprint)\n"))
            #expect(text.contains("table: \"orders\""))
            #expect(text.contains("table: \"customers\""))
            #expect(!text.contains("table: \"products\""))
            let events = try String(contentsOfFile: folder.appendingPathComponent("sessions/discovery.jsonl").path, encoding: .utf8)
            #expect(events.contains(#"{"connection":"@sqlite.demo","event":"discovery","from_cache":false}"#))
            #expect(events.contains(#""state":"DISCOVERY""#))
        }
    }

    @Test func theToolDiscoversASQLiteFileAndCachesItWhereOsirisDiscoverDoes() throws {
        try withDemo { folder in
            let environment = ["XDG_CACHE_HOME": folder.appendingPathComponent("cache").path]
            let arguments = ["--provider", "builtin", "--connection", "@sqlite.demo", "export orders and customers to csv"]
            let first = try ChatTool.run(arguments, in: folder, stdin: Data(), environment: environment)
            #expect(first.status == 0, "\(first.stderr)")
            let fingerprint = try #require(try ChatFixtures.snapshot().fingerprint)
            #expect(first.stdout.contains("# snapshot: @sqlite.demo \(fingerprint)\n"))
            #expect(first.stdout.contains("path: \"out/orders.csv\""))
            let cached = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("cache/osiris/discovery").path)
            #expect(cached.count == 1)
            #expect(cached.first?.hasSuffix(".snapshot") == true)
            // The second run reads the cache and writes the same OML.
            let second = try ChatTool.run(arguments, in: folder, stdin: Data(), environment: environment)
            #expect(second.status == 0)
            #expect(second.stdout == first.stdout)
        }
    }

    @Test func aSQLitePathAsTheConnectionNeedsNoConnectionsFile() throws {
        try withDemo { folder in
            try FileManager.default.removeItem(at: folder.appendingPathComponent("osiris_connections.yaml"))
            let run = try ChatTool.run(
                ["--provider", "builtin", "--connection", "sqlite:shop.db", "export products as json lines"], in: folder, stdin: Data(),
                environment: ["XDG_CACHE_HOME": folder.appendingPathComponent("cache").path])
            // A snapshot of a SQLite file names no alias: the plan reads the file by its path.
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("      path: \"shop.db\"\n      table: \"products\"\n"))
            #expect(!run.stdout.contains("connection:"))
        }
    }

    @Test func withConnectionStandardInputIsNotRead() throws {
        try withDemo { folder in
            // A snapshot that does not decode on stdin would be exit 65 if it were read.
            let run = try ChatTool.run(
                ["--provider", "builtin", "--connection", "@sqlite.demo", "copy all tables to csv"], in: folder,
                stdin: Data("{\"tables\": []}".utf8), environment: ["XDG_CACHE_HOME": folder.appendingPathComponent("cache").path])
            #expect(run.status == 0)
            #expect(run.stdout.contains("path: \"out/products.csv\""))
        }
    }

    @Test func anUnknownAliasExitsSeventyEight() throws {
        try withDemo { folder in
            let run = try ChatTool.run(["--provider", "builtin", "--connection", "@sqlite.nope", "copy all tables to csv"], in: folder, stdin: Data())
            #expect(run.status == 78)
            #expect(run.stdout == "")
            #expect(run.stderr == "osiris-chat: error: unknown connection '@sqlite.nope' in osiris_connections.yaml; its aliases: demo\n")
        }
    }

    @Test func aMissingSQLiteFileExitsSixtySix() throws {
        try withDemo { folder in
            let run = try ChatTool.run(["--connection", "sqlite:missing.db", "copy all tables to csv"], in: folder, stdin: Data())
            #expect(run.status == 66)
            #expect(run.stderr == "osiris-chat: error: SQLite database 'missing.db' does not exist (connection 'sqlite:missing.db')\n")
        }
    }

    @Test func aMissingConnectionsFileExitsSixtySix() throws {
        try withDemo { folder in
            let run = try ChatTool.run(
                ["--connections", "nowhere.yaml", "--connection", "@sqlite.demo", "copy all tables to csv"], in: folder, stdin: Data())
            #expect(run.status == 66)
        }
    }

    @Test func snapshotAndConnectionTogetherAreAUsageError() throws {
        try withDemo { folder in
            let run = try ChatTool.run(
                ["--snapshot", "s.json", "--connection", "@sqlite.demo", "copy all tables to csv"], in: folder, stdin: Data())
            #expect(run.status == 64)
            #expect(run.stderr.contains("give --snapshot or --connection, not both"))
        }
    }
}

/// `--connection` on the throwaway PostgreSQL server of scripts/with-servers.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["OSIRIS_TEST_PG_URL"] != nil, "needs OSIRIS_TEST_PG_URL (run under scripts/with-servers)"))
struct PostgreSQLConnectionDiscoveryTests {
    static let environment = ProcessInfo.processInfo.environment

    /// A connections file naming the test server as `@pg.shop` on `database`, the password from `${variable}`.
    func connectionsText(database: String, passwordVariable: String) -> String {
        """
        version: 1
        connections:
          pg:
            shop:
              host: ${OSIRIS_TEST_PG_HOST}
              port: ${OSIRIS_TEST_PG_PORT}
              database: \(database)
              user: ${OSIRIS_TEST_PG_USER}
              password: ${\(passwordVariable)}
          sqlite:
            backup: {path: backup.db}

        """
    }

    func fields(database: String) -> [String: JSONValue] {
        [
            "host": .string(Self.environment["OSIRIS_TEST_PG_HOST"] ?? "127.0.0.1"),
            "port": .int(Int(Self.environment["OSIRIS_TEST_PG_PORT"] ?? "5432") ?? 5432), "database": .string(database),
            "user": .string(Self.environment["OSIRIS_TEST_PG_USER"] ?? "osiris"),
            "password": .string(Self.environment["OSIRIS_TEST_PG_PASSWORD"] ?? ""),
        ]
    }

    @Test func chatDiscoversThePostgreSQLConnection() throws {
        // A database of its own, so the plan's tables are exactly these two.
        let database = "osiris_chat_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        let server = try PostgreSQLConnection(
            ResolvedConnection(reference: "@pg.test", family: "postgres", fields: fields(database: Self.environment["OSIRIS_TEST_PG_DATABASE"] ?? "osiris_test")),
            masker: SecretMasker())
        try server.execute("CREATE DATABASE \(database)")
        defer { try? server.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let shop = try PostgreSQLConnection(ResolvedConnection(reference: "@pg.test", family: "postgres", fields: fields(database: database)), masker: SecretMasker())
        try shop.execute("""
            CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
            CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), total numeric(12,2));
            """)
        try ChatFixtures.withTemporaryFolder { folder in
            try connectionsText(database: database, passwordVariable: "OSIRIS_TEST_PG_PASSWORD")
                .write(to: folder.appendingPathComponent("osiris_connections.yaml"), atomically: true, encoding: .utf8)
            let run = try ChatTool.run(
                ["--provider", "builtin", "--connection", "@pg.shop", "upsert all tables into @sqlite.backup"], in: folder, stdin: Data(),
                environment: ["XDG_CACHE_HOME": folder.appendingPathComponent("cache").path])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("# snapshot: @pg.shop sha256:"))
            #expect(run.stdout.contains("component: postgres.extractor"))
            #expect(run.stdout.contains("table: \"customers\""))
            #expect(run.stdout.contains("table: \"orders\""))
            #expect(run.stdout.contains("primary_key: [\"id\"]"))
        }
    }

    @Test func aWrongPasswordExitsSeventySevenAndIsNeverShown() throws {
        let planted = "wrong-pw-planted-7f3a"
        try ChatFixtures.withTemporaryFolder { folder in
            try connectionsText(database: Self.environment["OSIRIS_TEST_PG_DATABASE"] ?? "osiris_test", passwordVariable: "CHAT_TEST_PG_PASSWORD")
                .write(to: folder.appendingPathComponent("osiris_connections.yaml"), atomically: true, encoding: .utf8)
            let run = try ChatTool.run(
                ["--provider", "builtin", "--session", "wrong-pw", "--connection", "@pg.shop", "copy all tables to csv"], in: folder,
                stdin: Data(), environment: ["CHAT_TEST_PG_PASSWORD": planted, "XDG_CACHE_HOME": folder.appendingPathComponent("cache").path])
            #expect(run.status == 77, "\(run.stderr)")
            #expect(run.stdout == "")
            #expect(run.stderr.hasPrefix("osiris-chat: error: "))
            #expect(!run.stderr.contains(planted))
            let session = try String(contentsOfFile: folder.appendingPathComponent(".osiris/sessions/wrong-pw.jsonl").path, encoding: .utf8)
            #expect(session.contains(#""state":"DISCOVERY""#))
            #expect(!session.contains(planted))
        }
    }
}
