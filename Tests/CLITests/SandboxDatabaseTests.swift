import Foundation
import Testing

/// `osiris-exec --sandbox` against the servers of `scripts/with-servers`: a worker reaches PostgreSQL
/// and MariaDB with the connections the host resolved and sent in `prepare`, under bubblewrap through
/// the host's relays, as a plain child, through a `CMD` transport and in the E2B fake, and the run
/// matches the local one.
@Suite(.serialized, .enabled(if: TestServers.available, "needs the servers of scripts/with-servers (make test)"))
struct SandboxDatabaseTests {
    private let temporary = SandboxTestFolder()
    var folder: URL { temporary.url }

    func exec(_ arguments: [String], environment: [String: String] = [:]) throws -> (ToolHarness.Run, [String]) {
        let run = try ToolHarness.run(
            "osiris-exec", ["--connections", "connections.yaml", "--run-dir", "runs", "--jobs", "1", "p.manifest.json"] + arguments,
            in: folder,
            environment: ["PATH": ToolHarness.binDirectory.path + ":" + (TestServers.environment["PATH"] ?? "/usr/bin:/bin")].merging(environment) { $1 })
        return (run, SandboxParityTests.normalized(try ToolHarness.jsonLines(run.stdout)))
    }

    @Test func databaseStepsRunTheSameInTheSandbox() throws {
        try Data(TestServers.connectionsFile.utf8).write(to: folder.appendingPathComponent("connections.yaml"))
        let source = TestServers.uniqueName("sandbox_src")
        let target = TestServers.uniqueName("sandbox_dst")
        try TestServers.psql("""
            CREATE TABLE \(source) (id integer PRIMARY KEY, label text, amount numeric(10,2));
            INSERT INTO \(source) VALUES (1, 'one', 1.50), (2, NULL, 20.00), (3, 'three, "quoted"', 0.25);
            """)
        defer {
            _ = try? TestServers.psql("DROP TABLE IF EXISTS \(source)")
            _ = try? TestServers.mariadb("DROP TABLE IF EXISTS \(target)")
        }
        try Data("""
            oml_version: "0.1.0"
            name: databases
            steps:
              - {id: extract, component: postgres.extractor, mode: read, config: {query: "SELECT id, label, amount FROM \(source) ORDER BY id"}}
              - {id: csv, component: filesystem.csv_writer, mode: write, needs: [extract], config: {path: out.csv}}
              - {id: load, component: mysql.writer, mode: write, needs: [extract], config: {table: \(target), write_mode: replace}}

            """.utf8).write(to: folder.appendingPathComponent("p.oml"))
        let compile = try ToolHarness.run(
            "oml-compile", ["--connections", "connections.yaml", "p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0, "oml-compile: \(compile.stderr)")

        let (local, localEvents) = try exec([])
        try #require(local.status == 0, "\(local.stderr)")
        let localCSV = try Data(contentsOf: folder.appendingPathComponent("out.csv"))
        let localRows = try TestServers.mariadb("SELECT id, label, amount FROM \(target) ORDER BY id")
        #expect(localRows == "1\tone\t1.50\n2\tNULL\t20.00\n3\tthree, \"quoted\"\t0.25")

        let e2b = try FakeE2B()
        defer { e2b.stop() }
        for arguments in [["--sandbox"], ["--sandbox", #"sh -c "exec osiris-exec --worker""#], ["--sandbox", "e2b"]] {
            try FileManager.default.removeItem(at: folder.appendingPathComponent("out.csv"))
            try TestServers.mariadb("DROP TABLE \(target)")
            let (run, events) = try exec(arguments, environment: arguments.last == "e2b" ? e2b.environment : [:])
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            #expect(events == localEvents, "\(arguments)")
            #expect(try Data(contentsOf: folder.appendingPathComponent("out.csv")) == localCSV, "\(arguments)")
            #expect(try TestServers.mariadb("SELECT id, label, amount FROM \(target) ORDER BY id") == localRows, "\(arguments)")
            if arguments == ["--sandbox"], SandboxParityTests.bubblewrapWorks {
                // Under bubblewrap the worker has no network: both steps went through relays.
                let runID = try #require(try ToolHarness.jsonLines(run.stdout).first?["run_id"] as? String)
                let log = try String(contentsOf: folder.appendingPathComponent("runs/\(runID)/osiris.log"), encoding: .utf8)
                let line = try #require(log.split(separator: "\n").first { $0.contains("database steps reach their servers through") })
                #expect(line.hasSuffix("; the worker has no network"), "\(line)")
                #expect(line.contains("through 2 relays on Unix sockets in /tmp/osiris-relay-"), "\(line)")
                // The relays' folder is removed with them.
                let relays = try #require(line.split(separator: " ").first { $0.hasPrefix("/tmp/osiris-relay-") }).dropLast()
                #expect(!FileManager.default.fileExists(atPath: String(relays)), "\(relays)")
            }
        }
    }
}
