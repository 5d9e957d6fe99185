import Foundation
import OML
import OsirisCore
import OsirisDiscovery
@testable import OsirisDrivers

/// Fixtures and helpers shared by the chat tests.
enum ChatFixtures {
    /// This folder.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// The demo database's recipe.
    static let demoSQL = folder.appendingPathComponent("../../examples/demo/shop.sql").standardized

    /// Builds the demo database from examples/demo/shop.sql as `folder`/shop.db.
    static func buildDemoDatabase(in folder: URL) throws {
        let database = try SQLiteDatabase(path: folder.appendingPathComponent("shop.db").path, create: true)
        try database.execute(try String(contentsOf: demoSQL, encoding: .utf8))
        database.close()
    }

    /// Why the demo snapshot could not be made.
    struct DemoSnapshotError: Error, CustomStringConvertible {
        var description: String
    }

    /// The demo snapshot exactly as `osiris-discover @sqlite.demo` prints it: shop.db built from
    /// examples/demo/shop.sql in a temporary folder (removed at once) and discovered by OsirisDiscovery
    /// with no cache. Made once per test process.
    static let discoveredSnapshot: Result<[UInt8], DemoSnapshotError> = {
        do {
            return .success(try withTemporaryFolder { folder in
                try buildDemoDatabase(in: folder)
                let connections = try ConnectionsFile.parse(
                    Array("version: 1\nconnections:\n  sqlite:\n    demo: {default: true, path: shop.db}\n".utf8),
                    path: folder.appendingPathComponent("osiris_connections.yaml").path)
                return try Discovery.run(
                    DiscoveryOptions(connection: "@sqlite.demo"), connections: connections, searched: "the test", environment: [:],
                    masker: SecretMasker()
                ).bytes
            })
        } catch {
            return .failure(DemoSnapshotError(description: "cannot discover the demo database: \(error)"))
        }
    }()

    /// The demo snapshot's bytes (one line of canonical JSON).
    static func snapshotBytes() throws -> Data { Data(try discoveredSnapshot.get()) }

    /// The demo snapshot, decoded by OML's decoder.
    static func snapshot() throws -> Snapshot { try Snapshot.decode(try discoveredSnapshot.get(), path: "shop.snapshot.json") }

    /// Writes the demo snapshot into `folder` and returns its path.
    static func writeSnapshot(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("shop.snapshot.json")
        try snapshotBytes().write(to: path)
        return path.path
    }

    /// A connections file with a planted secret, for tests that check it never leaks.
    static let plantedSecret = "hunter2-planted-secret"
    static let connectionsText = """
        version: 1
        connections:
          sqlite:
            demo: {default: true, path: shop.db}
          pg:
            warehouse:
              host: 127.0.0.1
              user: etl
              password: \(plantedSecret)
        """

    static func connections() throws -> ConnectionsFile {
        try ConnectionsFile.parse(Array(connectionsText.utf8), path: "osiris_connections.yaml")
    }

    /// A fresh temporary folder, removed by `body`'s end.
    static func withTemporaryFolder<T>(_ body: (URL) throws -> T) throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-chat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try body(folder)
    }

    /// A lint-clean draft over the demo snapshot.
    static let goodDraft = """
        oml_version: "0.1.0"
        name: orders-to-csv
        steps:
          - id: extract-orders
            component: sqlite.extractor
            mode: read
            config:
              connection: "@sqlite.demo"
              table: orders
          - id: write-orders
            component: filesystem.csv_writer
            mode: write
            needs: [extract-orders]
            config:
              path: out/orders.csv

        """

    /// The same draft reading a table the snapshot does not have.
    static let inventedTableDraft = goodDraft.replacingOccurrences(of: "table: orders", with: "table: order_lines")

    /// `text` in a yaml fence with prose around it, as models answer.
    static func fenced(_ text: String) -> String { "Here is the pipeline:\n\n```yaml\n\(text)```\n\nIt copies orders." }
}

/// Runs the built osiris-chat as a user would.
enum ChatTool {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("osiris-chat")

    static func run(_ arguments: [String], in directory: URL, stdin: Data, environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        for key in ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CLAUDE_API_KEY", "OSIRIS_LLM_PROVIDER", "OSIRIS_LLM_MODEL",
                    "OSIRIS_LLM_BASE_URL", "OSIRIS_CONNECTIONS"] { env.removeValue(forKey: key) }
        env["XDG_CONFIG_HOME"] = "/nonexistent"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let files = ["stdin", "stdout", "stderr"].map { directory.appendingPathComponent(".run-\($0)") }
        try stdin.write(to: files[0])
        for file in files.dropFirst() { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let handles = try [FileHandle(forReadingFrom: files[0]), FileHandle(forWritingTo: files[1]), FileHandle(forWritingTo: files[2])]
        process.standardInput = handles[0]
        process.standardOutput = handles[1]
        process.standardError = handles[2]
        try process.run()
        process.waitUntilExit()
        for handle in handles { try handle.close() }
        defer { for file in files { try? FileManager.default.removeItem(at: file) } }
        return Run(
            status: process.terminationStatus, stdout: try String(contentsOf: files[1], encoding: .utf8),
            stderr: try String(contentsOf: files[2], encoding: .utf8))
    }
}
