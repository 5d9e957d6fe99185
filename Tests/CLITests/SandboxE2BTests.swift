import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `osiris-exec --sandbox e2b` against `FakeE2B` (the parity with the other adapters is in
/// `SandboxParityTests`): how refusals and outages map to exit statuses, interruption and a killed
/// host; and, only when `E2B_API_KEY` is set, a live run against E2B itself.
@Suite(.serialized) struct SandboxE2BTests {
    private let temporary = SandboxTestFolder()
    var folder: URL { temporary.url }

    static let pipeline = """
        oml_version: "0.1.0"
        name: e2b
        steps:
          - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: data/people.csv}}
          - {id: write, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out/people.csv}}
        """

    func setUp(_ pipeline: String = Self.pipeline) throws {
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("out"), withIntermediateDirectories: true)
        try Data(SandboxParityTests.people.utf8).write(to: folder.appendingPathComponent("data/people.csv"))
        try Data(pipeline.utf8).write(to: folder.appendingPathComponent("p.oml"))
        let compile = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0, "\(compile.stderr)")
    }

    func exec(_ arguments: [String], _ environment: [String: String]) throws -> ToolHarness.Run {
        try ToolHarness.run("osiris-exec", ["p.manifest.json", "--run-dir", "runs", "--sandbox", "e2b"] + arguments, in: folder, environment: environment)
    }

    /// No run directory: nothing ran.
    var runDirectories: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("runs").path))?.filter { !$0.hasPrefix(".") } ?? []
    }

    @Test func aRunWritesTheFileAndDeletesItsSandbox() throws {
        try setUp()
        let e2b = try FakeE2B()
        defer { e2b.stop() }
        let run = try exec(["--e2b-template", "osiris"], e2b.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try String(contentsOf: folder.appendingPathComponent("out/people.csv"), encoding: .utf8) == SandboxParityTests.people)
        let events = try ToolHarness.jsonLines(run.stdout)
        #expect(events.first?["isolation"] as? String == "e2b")
        #expect(events.last?["status"] as? String == "success")
        #expect(e2b.liveSandboxes.isEmpty)
        let create = try #require(e2b.requests.first)
        let body = try JSONSerialization.jsonObject(with: Data(create.body)) as? [String: Any]
        #expect(body?["templateID"] as? String == "osiris")
        #expect(body?["timeout"] as? Int == 300)
        #expect(create.headers["x-api-key"] == FakeE2B.apiKey)
        // The worker and its libraries went up through the files API, the loader among them.
        let uploads = e2b.requests.filter { $0.method == "POST" && $0.target.hasPrefix("/files?path=") }
        #expect(uploads.contains { $0.target.hasSuffix("/osiris-exec") })
        #expect(uploads.contains { $0.target.contains("/lib/ld-linux") })
        #expect(uploads.allSatisfy { $0.headers["x-access-token"] == "envd-token-1" })
    }

    @Test(arguments: [
        ("E2B_API_KEY", "e2b_wrong", 77, "osiris-exec: error: cannot start the sandbox worker: cannot create an E2B sandbox from template 'base': HTTP 401: Invalid API key\n"),
        ("E2B_TEMPLATE", "nowhere", 78, "osiris-exec: error: cannot start the sandbox worker: cannot create an E2B sandbox from template 'nowhere': HTTP 404: template 'nowhere' not found\n"),
        ("E2B_API_URL", "http://db.example.com:3000", 78, "osiris-exec: error: E2B_API_URL 'http://db.example.com:3000' uses plain http, which is allowed only on loopback (127.0.0.1, localhost, [::1])\n"),
        ("E2B_API_KEY", "", 78, "osiris-exec: error: --sandbox e2b needs an API key in E2B_API_KEY\n"),
        ("OSIRIS_E2B_LIFETIME", "soon", 78, "osiris-exec: error: OSIRIS_E2B_LIFETIME 'soon' is not a number of seconds\n"),
    ])
    func refusalsExitWithTheirStatus(variable: String, value: String, status: Int32, stderr: String) throws {
        try setUp()
        let e2b = try FakeE2B()
        defer { e2b.stop() }
        let run = try exec([], e2b.environment.merging([variable: value]) { $1 })
        #expect(run.status == status)
        #expect(run.stderr == stderr)
        #expect(run.stdout.isEmpty)
        #expect(runDirectories.isEmpty)
        #expect(e2b.liveSandboxes.isEmpty)
    }

    @Test func anUnreachableAPIIsUnavailable() throws {
        try setUp()
        // A port that was just free: nothing listens there.
        let e2b = try FakeE2B()
        let url = e2b.url
        e2b.stop()
        let run = try exec([], ["E2B_API_KEY": FakeE2B.apiKey, "E2B_API_URL": url, "E2B_SANDBOX_URL": url])
        #expect(run.status == 69)
        #expect(run.stderr.hasPrefix("osiris-exec: error: cannot start the sandbox worker: cannot create an E2B sandbox from template 'base': "))
        #expect(runDirectories.isEmpty)
    }

    @Test func anInterruptedHostDeletesItsSandbox() throws {
        try setUp(SandboxParityTests.slowPipeline.replacingOccurrences(
            of: #"{id: orders, component: sqlite.extractor, mode: read, config: {query: "SELECT id FROM orders"}}"#,
            with: #"{id: orders, component: filesystem.csv_extractor, mode: read, config: {path: data/people.csv}}"#))
        let e2b = try FakeE2B()
        defer { e2b.stop() }
        let (host, events) = try startHost(e2b.environment)
        defer { if host.isRunning { kill(host.processIdentifier, SIGKILL) } }
        try waitForSpin(events)
        let workers = e2b.workerPIDs
        #expect(workers.count == 1)
        kill(host.processIdentifier, SIGINT)
        host.waitUntilExit()
        #expect(host.terminationStatus == 130)
        let lines = try ToolHarness.jsonLines(try String(contentsOf: events, encoding: .utf8))
        #expect(lines.last?["status"] as? String == "aborted")
        #expect(e2b.liveSandboxes.isEmpty)
        #expect(e2b.requests.last?.method == "DELETE")
        for pid in workers { #expect(waitUntilGone(pid), "worker \(pid) outlived its sandbox") }
    }

    @Test func aKilledHostLeavesASandboxThatExpires() throws {
        try setUp(SandboxParityTests.slowPipeline.replacingOccurrences(
            of: #"{id: orders, component: sqlite.extractor, mode: read, config: {query: "SELECT id FROM orders"}}"#,
            with: #"{id: orders, component: filesystem.csv_extractor, mode: read, config: {path: data/people.csv}}"#))
        let e2b = try FakeE2B()
        defer { e2b.stop() }
        let (host, events) = try startHost(e2b.environment.merging(["OSIRIS_E2B_LIFETIME": "3"]) { $1 })
        defer { if host.isRunning { kill(host.processIdentifier, SIGKILL) } }
        try waitForSpin(events)
        let workers = e2b.workerPIDs
        #expect(workers.count == 1)
        // Renewed while the host lives (every second), so it outlives its first 3 s.
        usleep(3_500_000)
        #expect(e2b.liveSandboxes.count == 1)
        #expect(e2b.requests.contains { $0.target.hasSuffix("/timeout") })
        kill(host.processIdentifier, SIGKILL)
        host.waitUntilExit()
        for pid in workers { #expect(waitUntilGone(pid, seconds: 10), "worker \(pid) outlived its sandbox") }
        #expect(e2b.liveSandboxes.isEmpty)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["E2B_API_KEY"].map { !$0.isEmpty } ?? false))
    func liveSmokeTestAgainstE2B() throws {
        try setUp()
        let run = try exec([], [:])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try String(contentsOf: folder.appendingPathComponent("out/people.csv"), encoding: .utf8) == SandboxParityTests.people)
    }

    // MARK: Helpers

    func startHost(_ environment: [String: String]) throws -> (Process, URL) {
        try ToolHarness.startExec(["p.manifest.json", "--run-dir", "runs", "--sandbox", "e2b"], in: folder, environment: environment)
    }

    func waitForSpin(_ events: URL) throws {
        for _ in 0..<400 {
            usleep(50_000)
            if (try? String(contentsOf: events, encoding: .utf8))?.contains(#""step_id":"spin""#) == true { break }
        }
        try #require((try? String(contentsOf: events, encoding: .utf8))?.contains(#""step_id":"spin""#) == true, "the slow step never started")
        usleep(200_000)
    }

    func waitUntilGone(_ pid: Int32, seconds: Int = 5) -> Bool {
        for _ in 0..<(seconds * 20) {
            if SandboxParityTests.isGone(pid) { return true }
            usleep(50_000)
        }
        return SandboxParityTests.isGone(pid)
    }
}
