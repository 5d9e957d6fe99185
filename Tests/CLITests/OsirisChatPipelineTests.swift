import Foundation
import PseudoTerminal
import Testing

/// `osiris-discover` → `osiris-chat --provider builtin` → `oml-compile` → `osiris-exec` on the SQLite demo
/// database: the builtin planner's OML lints clean, compiles and runs.
@Suite struct OsirisChatPipelineTests {
    /// The snapshot osiris-discover writes in each demo folder.
    static let snapshotName = "shop.snapshot.json"

    /// A folder with the demo database, a connections file naming it and a backup database, and the
    /// snapshot osiris-discover wrote of it (the cache in the folder too), removed afterwards.
    func withDemo(_ body: (URL) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-chat-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let schema = try Data(contentsOf: ToolHarness.repositoryRoot.appendingPathComponent("examples/demo/shop.sql"))
        let build = try ToolHarness.run(ExecCommandTests.sqlite3, ["shop.db"], in: folder, stdin: schema)
        try #require(build.status == 0, "sqlite3: \(build.stderr)")
        try Data("""
            version: 1
            connections:
              sqlite:
                demo: {default: true, path: shop.db}
                backup: {path: backup.db}
                mirror: {path: mirror.db}

            """.utf8).write(to: folder.appendingPathComponent("osiris_connections.yaml"))
        let discover = try ToolHarness.run(
            "osiris-discover", ["@sqlite.demo", "-o", Self.snapshotName], in: folder, environment: cache(folder))
        try #require(discover.status == 0, "osiris-discover: \(discover.stderr)")
        try body(folder)
    }

    /// Keeps the discovery cache inside the test's folder.
    func cache(_ folder: URL) -> [String: String] { ["XDG_CACHE_HOME": folder.appendingPathComponent("cache").path] }

    /// The snapshot osiris-discover wrote in `folder`.
    func snapshot(_ folder: URL) throws -> Data { try Data(contentsOf: folder.appendingPathComponent(Self.snapshotName)) }

    /// Chat (snapshot on stdin), compile and run `request`; returns chat's OML.
    @discardableResult
    func chatCompileRun(_ request: String, in folder: URL) throws -> String {
        let chat = try ToolHarness.run(
            "osiris-chat", ["--provider", "builtin", request], in: folder, stdin: try snapshot(folder))
        try #require(chat.status == 0, "chat: \(chat.stderr)")
        try chat.stdoutBytes.write(to: folder.appendingPathComponent("p.oml"))
        let compile = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0, "compile: \(compile.stderr)")
        let exec = try ToolHarness.run("osiris-exec", ["p.manifest.json", "--run-dir", "runs"], in: folder)
        try #require(exec.status == 0, "exec: \(exec.stderr)")
        return chat.stdout
    }

    /// The whole loop as a user types it, through real pipes: discover | chat | compile | exec, and the
    /// same with chat discovering the connection itself.
    @Test(arguments: [false, true]) func discoverChatCompileExecThroughPipes(chatDiscovers: Bool) throws {
        try withDemo { folder in
            let tool = { (name: String) in "'\(try ToolHarness.executable(name).path)'" }
            let chat = "\(try tool("osiris-chat")) --provider builtin 'export orders and customers to csv'"
            let head = chatDiscovers ? "\(chat) --connection @sqlite.demo" : "\(try tool("osiris-discover")) @sqlite.demo | \(chat)"
            let line = "set -o pipefail; \(head) | \(try tool("oml-compile")) - | \(try tool("osiris-exec")) --run-dir runs - > events.jsonl"
            let run = try ToolHarness.run("/bin/bash", ["-c", line], in: folder, environment: cache(folder))
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try lineCount(folder.appendingPathComponent("out/orders.csv")) == 4001)
            #expect(try lineCount(folder.appendingPathComponent("out/customers.csv")) == 801)
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/products.csv").path))
        }
    }

    func lineCount(_ path: URL) throws -> Int {
        try String(contentsOf: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count - 1
    }

    func count(_ table: String, in database: String, folder: URL) throws -> String {
        try ToolHarness.run(ExecCommandTests.sqlite3, [database, "SELECT count(*) FROM \(table)"], in: folder).stdout
    }

    @Test func everyTableToCSV() throws {
        try withDemo { folder in
            let oml = try chatCompileRun("copy all tables to csv", in: folder)
            let snapshot = try #require(try JSONSerialization.jsonObject(with: snapshot(folder)) as? [String: Any])
            let fingerprint = try #require(snapshot["fingerprint"] as? String)
            #expect(oml.contains("# snapshot: @sqlite.demo \(fingerprint)\n"))
            #expect(try lineCount(folder.appendingPathComponent("out/customers.csv")) == 801)
            #expect(try lineCount(folder.appendingPathComponent("out/products.csv")) == 61)
            #expect(try String(contentsOf: folder.appendingPathComponent("out/products.csv"), encoding: .utf8)
                .hasPrefix("id,name,category,price\n"))
        }
    }

    @Test func namedTableToJSONLines() throws {
        try withDemo { folder in
            try chatCompileRun("export orders as json lines", in: folder)
            #expect(try lineCount(folder.appendingPathComponent("out/orders.jsonl")) == 4000)
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/customers.jsonl").path))
        }
    }

    @Test func everyTableToAnotherConnectionAndUpsertTwice() throws {
        try withDemo { folder in
            try chatCompileRun("copy all tables to @sqlite.backup", in: folder)
            #expect(try count("customers", in: "backup.db", folder: folder) == "800\n")
            #expect(try count("orders", in: "backup.db", folder: folder) == "4000\n")
            // The first upsert creates the table with the snapshot's primary key; the second matches on it.
            let upsert = try chatCompileRun("upsert orders into @sqlite.mirror", in: folder)
            #expect(upsert.contains("primary_key: [\"id\"]"))
            try chatCompileRun("upsert orders into @sqlite.mirror", in: folder)
            #expect(try count("orders", in: "mirror.db", folder: folder) == "4000\n")
        }
    }

    @Test func previewShowsWhatEachWriterWouldReceiveAndTouchesNoTarget() throws {
        try withDemo { folder in
            let chat = try ToolHarness.run(
                "osiris-chat", ["--provider", "builtin", "--preview", "2", "upsert products into @sqlite.mirror"], in: folder,
                stdin: try snapshot(folder))
            #expect(chat.status == 0)
            #expect(chat.stdout.contains("component: sqlite.writer"))
            #expect(chat.stderr == """
                osiris-chat: preview: 'write-products' would receive:
                  id,name,category,price
                  1,Deluxe Lamp,home,171.50
                  2,Compact Backpack,outdoor,90.50

                """)
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("mirror.db").path))
        }
    }

    /// Runs `command` in a pseudo-terminal in `folder`, typing `answers` once `prompt` shows.
    func inTerminal(_ command: String, in folder: URL, answers: String, after prompt: String) throws -> (shown: String, status: Int32) {
        let session = try PseudoTerminal.run(command, in: folder, typing: answers, after: prompt)
        return (session.shown, session.status)
    }

    func previewCommand(_ request: String) -> String {
        let chat = try! ToolHarness.executable("osiris-chat").path
        return "'\(chat)' --provider builtin --preview 1 --snapshot '\(Self.snapshotName)' '\(request)' > p.oml"
    }

    @Test func previewInATerminalQuitWritesNothing() throws {
        try withDemo { folder in
            let (shown, status) = try inTerminal(
                previewCommand("copy products to csv"), in: folder, answers: "q\n", after: "[a/e/q]")
            #expect(status == 1, "\(shown)")
            #expect(shown.contains("'write-products' would receive:\r\n  id,name,category,price\r\n  1,Deluxe Lamp,home,171.50\r\n"))
            #expect(try String(contentsOf: folder.appendingPathComponent("p.oml"), encoding: .utf8) == "")
        }
    }

    @Test func previewInATerminalEditThenAccept() throws {
        try withDemo { folder in
            let (shown, status) = try inTerminal(
                previewCommand("copy products to csv"), in: folder, answers: "e\nexport customers as json lines\na\n", after: "[a/e/q]")
            #expect(status == 0, "\(shown)")
            #expect(shown.contains("'write-customers' would receive:"))
            let oml = try String(contentsOf: folder.appendingPathComponent("p.oml"), encoding: .utf8)
            #expect(oml.contains("# request: export customers as json lines\n"))
            #expect(oml.contains("path: \"out/customers.jsonl\""))
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
        }
    }
}
