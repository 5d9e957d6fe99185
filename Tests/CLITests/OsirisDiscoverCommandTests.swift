import Foundation
import Testing

/// `osiris-discover` end to end on SQLite and folders (no server), and its exit statuses.
@Suite struct OsirisDiscoverCommandTests {
    private let temporary = DiscoverTestFolder()
    var folder: URL { temporary.url }
    /// The cache goes to the test's folder, never to the user's.
    var environment: [String: String] { ["XDG_CACHE_HOME": folder.appendingPathComponent("cache").path] }

    static let sqlite3: String = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return directories.map { "\($0)/sqlite3" }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "sqlite3"
    }()

    func write(_ name: String, _ text: String) throws {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// A SQLite database `shop.db` in the folder and a connections file naming it `@sqlite.shop`.
    func shop() throws {
        let created = try ToolHarness.run(Self.sqlite3, [folder.appendingPathComponent("shop.db").path, """
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT DEFAULT 'none');
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), total NUMERIC(10,2));
            CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
            """], in: folder)
        #expect(created.status == 0, "\(created.stderr)")
        try write("osiris_connections.yaml", """
            version: 1
            connections:
              sqlite:
                shop: {path: shop.db, default: true}
              pg:
                far: {host: 127.0.0.1, port: 1, database: shop, user: ann, password: "${FAR_PASSWORD}"}

            """)
    }

    func discover(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ToolHarness.Run {
        try ToolHarness.run("osiris-discover", arguments, in: folder, environment: environment.merging(extra) { $1 })
    }

    @Test func sqliteSnapshotIsDeterministicAndGroundsTheLinter() throws {
        try shop()
        let first = try discover(["@sqlite.shop"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr == "")
        let second = try discover(["@sqlite"])
        #expect(second.stdoutBytes == first.stdoutBytes)
        let snapshot = try #require(JSONSerialization.jsonObject(with: first.stdoutBytes) as? [String: Any])
        #expect(snapshot["connection"] as? String == "@sqlite.shop")
        #expect(snapshot["family"] as? String == "sqlite")
        #expect(snapshot["depth"] as? String == "columns")
        #expect((snapshot["fingerprint"] as? String)?.hasPrefix("sha256:") == true)
        let tables = try #require(snapshot["tables"] as? [[String: Any]])
        #expect(tables.map { $0["name"] as? String } == ["big_orders", "customers", "orders"])
        #expect(first.stdout.hasSuffix("}\n") && first.stdout.filter { $0 == "\n" }.count == 1)

        try Data(first.stdoutBytes).write(to: folder.appendingPathComponent("shop.snapshot.json"))
        try write("p.oml", """
            oml_version: "0.1.0"
            name: grounded
            steps:
              - id: extract-customers
                component: sqlite.extractor
                mode: read
                config:
                  connection: "@sqlite.shop"
                  table: customers
                  columns: [id, name, phone]

            """)
        let lint = try ToolHarness.run("oml-lint", ["--snapshot", "shop.snapshot.json", "--format", "json", "p.oml"], in: folder)
        #expect(lint.status == 1)
        #expect(lint.stdout.contains("\"OML401\""))
        #expect(lint.stdout.contains("'phone'"))
    }

    @Test func outputFileIsWrittenAtomicallyAndLeftUntouchedWhenUnchanged() throws {
        try shop()
        let target = folder.appendingPathComponent("snap.json")
        #expect(try discover(["sqlite:shop.db", "-o", "snap.json"]).status == 0)
        let written = try Data(contentsOf: target)
        #expect(String(decoding: written, as: UTF8.self).contains("\"connection\":\"sqlite:shop.db\""))
        let old = Date(timeIntervalSince1970: 1_000_000_000)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: target.path)
        let again = try discover(["sqlite:shop.db", "-o", "snap.json"])
        #expect(again.status == 0 && again.stdout == "")
        let attributes = try FileManager.default.attributesOfItem(atPath: target.path)
        #expect(attributes[.modificationDate] as? Date == old)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".snap.json") }
        #expect(leftovers == [])
    }

    @Test func tablesDepthWithPatterns() throws {
        try shop()
        let run = try discover(["sqlite:shop.db", "--depth", "tables", "--tables", "cust*,main.orders"])
        #expect(run.status == 0, "\(run.stderr)")
        let snapshot = try #require(JSONSerialization.jsonObject(with: run.stdoutBytes) as? [String: Any])
        let tables = try #require(snapshot["tables"] as? [[String: Any]])
        #expect(tables.map { $0["name"] as? String } == ["customers", "orders"])
        #expect(tables.allSatisfy { $0["columns"] == nil })
    }

    /// (arguments, exit status, a piece of the message)
    static let failures: [([String], Int32, String)] = [
        (["sqlite:missing.db"], 66, "SQLite database 'missing.db' does not exist"),
        (["file:no-such-folder"], 66, "folder 'no-such-folder' does not exist"),
        (["@sqlite.nope"], 78, "unknown connection '@sqlite.nope'"),
        (["@pg.far"], 78, "environment variable FAR_PASSWORD is not set"),
        (["oracle"], 78, "is neither a connection reference"),
        (["@sqlite.shop", "--depth", "deep"], 64, "--depth must be tables, columns or profile"),
        (["@sqlite.shop", "--sample=-1"], 64, "--sample must be 0 or more"),
        ([], 64, "Missing expected argument"),
        (["postgres://ann:Pa55-word@127.0.0.1:1/shop?connect_timeout=2"], 69, "PostgreSQL connection 'postgres://ann@127.0.0.1:1/shop"),
    ]

    @Test(arguments: 0..<failures.count)
    func failuresExitWithTheirStatusAndMaskedMessages(index: Int) throws {
        try shop()
        let (arguments, status, message) = Self.failures[index]
        let run = try discover(arguments)
        #expect(run.status == status, "\(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(run.stdout == "")
        #expect(!run.stderr.contains("Pa55-word"))
    }

    /// The example of osiris-snapshot(5) is the real output of the command it names.
    @Test func theManPageExampleIsRealOutput() throws {
        let examples = folder.appendingPathComponent("examples")
        try FileManager.default.copyItem(at: ToolHarness.repositoryRoot.appendingPathComponent("examples"), to: examples)
        // A checkout where `make demo` ran has its database already: build a fresh one.
        try? FileManager.default.removeItem(at: examples.appendingPathComponent("demo/shop.db"))
        let sql = try Data(contentsOf: examples.appendingPathComponent("demo/shop.sql"))
        let built = try ToolHarness.run(Self.sqlite3, [examples.appendingPathComponent("demo/shop.db").path], in: folder, stdin: sql)
        #expect(built.status == 0)
        let page = try String(contentsOf: ToolHarness.repositoryRoot.appendingPathComponent("man/osiris-snapshot.5"), encoding: .utf8)
        let lines = page.split(separator: "\n", omittingEmptySubsequences: false)
        let example = try #require(lines.firstIndex(of: ".Bd -literal").map { String(lines[$0 + 1]) })
        let run = try discover(["--connections", "examples/osiris_connections.yaml", "@sqlite.demo", "--tables", "customers"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == example + "\n")
    }

    @Test func anUnwritableCacheIsAWarning() throws {
        try shop()
        try write("cache", "a file where the cache folder should be")
        let run = try discover(["@sqlite.shop"])
        #expect(run.status == 0)
        #expect(run.stderr.hasPrefix("osiris-discover: warning: cannot cache the snapshot: cannot write '"), "\(run.stderr)")
        #expect(run.stdout.hasPrefix("{\"connection\":\"@sqlite.shop\""))
    }
}

private final class DiscoverTestFolder: Sendable {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-discover-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
